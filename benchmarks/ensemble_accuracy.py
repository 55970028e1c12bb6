"""Test accuracy and fit time of the "cnn-best" preset: soft voting over networks.

Each repeat fits ``make_preset("cnn-best", random_state=repeat)`` (five
"cnn-accurate" networks with seeds drawn from the repeat's, fitted one after
another in this process unless ``--n-jobs`` says otherwise) on MNIST's 60,000
training images, and scores it and each of its members on the 10,000 test
images. It prints one row per repeat and the members' accuracy beside the
vote's.

    MNISTKIT_DATA=../shared/data python benchmarks/ensemble_accuracy.py

``--n-train 2000 --epochs 1 --members 2`` is a quick trial. A member
takes as long as one "cnn-accurate" fit; the whole ensemble, five of those on
one machine whose cores are busy with one, and about one on five workers
(``--n-jobs`` runs members in joblib's processes on this machine).
"""

import argparse
import time

import numpy as np

from mnistkit import load_train_test, make_preset
from mnistkit.machine import describe_machine


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, nargs="+", default=[0])
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument("--n-train", type=int, help="a stratified sample")
    parser.add_argument("--n-test", type=int, help="a stratified sample, to try")
    parser.add_argument("--epochs", type=int, help="of every member, for a trial")
    args = parser.parse_args(argv)

    data = load_train_test("mnist", n_train=args.n_train, n_test=args.n_test)
    X_train = (data.X_train / np.float32(255)).astype(np.float32)
    X_test = (data.X_test / np.float32(255)).astype(np.float32)
    members = {} if args.epochs is None else {"epochs": args.epochs}
    changed = f" with {members}" if members else ""
    print(
        f"CPU: {describe_machine()}. {data.description}. cnn-best: soft vote of "
        f"{args.members} cnn-accurate networks{changed}.\n"
    )
    print(
        "| repeat | test accuracy | members' test accuracy | fit s |\n"
        "| --- | --- | --- | --- |"
    )
    for repeat in args.repeats:
        ensemble = make_preset(
            "cnn-best",
            n_members=args.members,
            random_state=repeat,
            n_jobs=args.n_jobs,
            **members,
        )
        start = time.perf_counter()
        ensemble.fit(X_train, data.y_train)
        seconds = time.perf_counter() - start
        scores = ", ".join(
            f"{member.score(X_test, data.y_test):.4f}"
            for member in ensemble.estimators_
        )
        accuracy = ensemble.score(X_test, data.y_test)
        print(f"| {repeat} | {accuracy:.4f} | {scores} | {seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
