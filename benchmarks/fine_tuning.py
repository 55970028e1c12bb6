"""Fine-tuning a CNN trained on MNIST, against training from scratch.

In one process: fits the default `CNNClassifier` on MNIST's 60,000 training
images, then, for 100, 300 and 1,000 labelled Fashion-MNIST training images
(a stratified sample per seed), fits

- the same network from scratch (new weights);
- the MNIST network fine-tuned (``init_model``) with its feature layers
  frozen (``feature_lr_scale=0``), ten times slower (0.1) and trained like
  the new output layer (1.0);

all with the same training settings, and scores each on Fashion-MNIST's
10,000 test images. Prints the mean and standard deviation over the seeds.

    MNISTKIT_DATA=../shared/data python benchmarks/fine_tuning.py

``--sizes 100 --seeds 0 --n-train 5000`` is a quick trial.
"""

import argparse
import statistics
import time

from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from mnistkit import CNNClassifier, PixelNormalizer, load_fashion_mnist, load_train_test

# Few images: more, smaller steps than the MNIST defaults, the same for all.
SMALL_DATA_TRAINING = dict(epochs=30, batch_size=32)
VARIANTS = {
    "from scratch": None,
    "fine-tuned, features frozen": 0.0,
    "fine-tuned, features at 0.1x": 0.1,
    "fine-tuned, all layers alike": 1.0,
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--n-train", type=int, help="MNIST images for the source")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    from mnistkit.machine import describe_machine

    mnist = load_train_test("mnist", n_train=args.n_train, random_state=0)
    source = make_pipeline(PixelNormalizer(), CNNClassifier(random_state=0))
    start = time.perf_counter()
    source.fit(mnist.X_train, mnist.y_train)
    print(
        f"Source: CNNClassifier() on {len(mnist.y_train)} MNIST images, test "
        f"accuracy {source.score(mnist.X_test, mnist.y_test):.4f}, fitted in "
        f"{time.perf_counter() - start:.1f} s",
        flush=True,
    )
    X_pool, y_pool = load_fashion_mnist("train", return_X_y=True)
    X_test, y_test = load_fashion_mnist("test", return_X_y=True)

    rows = []
    for size in args.sizes:
        scores = {name: [] for name in VARIANTS}
        seconds = {name: [] for name in VARIANTS}
        for seed in args.seeds:
            X, _, y, _ = train_test_split(
                X_pool, y_pool, train_size=size, stratify=y_pool, random_state=seed
            )
            for name, scale in VARIANTS.items():
                tuning = (
                    {}
                    if scale is None
                    else dict(init_model=source, feature_lr_scale=scale)
                )
                model = make_pipeline(
                    PixelNormalizer(),
                    CNNClassifier(random_state=seed, **SMALL_DATA_TRAINING, **tuning),
                )
                start = time.perf_counter()
                model.fit(X, y)
                seconds[name].append(time.perf_counter() - start)
                scores[name].append(model.score(X_test, y_test))
                print(f"{size} images, seed {seed}, {name}: {scores[name][-1]:.4f}")
        for name in VARIANTS:
            spread = statistics.stdev(scores[name]) if len(scores[name]) > 1 else 0.0
            rows.append(
                (
                    size,
                    name,
                    statistics.mean(scores[name]),
                    spread,
                    statistics.median(seconds[name]),
                )
            )

    print(
        f"\nCPU: {describe_machine()}. Fashion-MNIST test accuracy (10,000 "
        "images), mean "
        f"and standard deviation over seeds {args.seeds}; CNNClassifier with "
        f"{SMALL_DATA_TRAINING}; source trained on MNIST.\n"
    )
    print("| training images | network | test accuracy | std | fit s (median) |")
    print("| --- | --- | --- | --- | --- |")
    for size, name, mean, spread, fit_s in rows:
        print(f"| {size} | {name} | {mean:.4f} | {spread:.4f} | {fit_s:.1f} |")


if __name__ == "__main__":
    main()
