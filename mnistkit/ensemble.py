"""Soft voting over copies of one classifier that differ only in their seed.

Networks trained from different seeds make different mistakes, and the mean
of their predicted probabilities is more accurate than any one of them. The
voting itself is scikit-learn's `VotingClassifier`; what this module adds is
the distinct seeds.
"""

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import VotingClassifier
from sklearn.utils import check_random_state


def make_ensemble(
    estimator: BaseEstimator,
    n_members: int = 5,
    *,
    random_state: int | np.random.RandomState | None = None,
    n_jobs: int | None = None,
) -> VotingClassifier:
    """Soft voting over `n_members` copies of `estimator`, each with its own seed.

    The members are fitted independently, so they can be fitted at once:
    `n_jobs` processes on one machine, or the workers of a Dask cluster
    (inside ``joblib.parallel_config(backend="dask")``). Fitting takes
    `n_members` times one member's fit on one machine with the cores busy,
    and about one member's fit on `n_members` workers.

    Parameters
    ----------
    estimator : classifier
        The member, e.g. ``make_preset("cnn-accurate")``, or a Pipeline ending
        in a classifier with a ``random_state`` parameter. It is cloned, never
        fitted itself.
    n_members : int, default=5
        Copies to train.
    random_state : int, RandomState instance or None, default=None
        Draws the members' seeds: an int gives the same ensemble on every
        fit. None leaves each member's seed to its own fit (fresh ones).
    n_jobs : int or None, default=None
        Members fitted at once, as in `VotingClassifier`; -1 for every core.

    Returns
    -------
    ensemble : sklearn.ensemble.VotingClassifier
        Unfitted, with ``voting="soft"`` and members named ``"member0"``,
        ``"member1"``, ...

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from mnistkit import MLPClassifier
    >>> from mnistkit import make_ensemble
    >>> X, y = load_digits(return_X_y=True)
    >>> ensemble = make_ensemble(MLPClassifier(epochs=20), 3, random_state=0)
    >>> [member.random_state for _, member in ensemble.estimators]
    [209652396, 398764591, 924231285]
    >>> ensemble.fit(X[:1500] / 16, y[:1500]).score(X[1500:] / 16, y[1500:]) > 0.9
    True
    """
    if random_state is None:
        seeds = [None] * n_members
    else:
        seeds = check_random_state(random_state).randint(2**31 - 1, size=n_members)
    members = []
    for index, seed in enumerate(seeds):
        member = clone(estimator)
        if seed is not None:
            _set_random_state(member, int(seed))
        members.append((f"member{index}", member))
    return VotingClassifier(members, voting="soft", n_jobs=n_jobs)


def _set_random_state(estimator, seed):
    """Set every ``random_state`` parameter of `estimator` (and its steps)."""
    names = [
        name
        for name in estimator.get_params()
        if name == "random_state" or name.endswith("__random_state")
    ]
    if not names:
        raise ValueError(
            f"{type(estimator).__name__} has no random_state to give each "
            "member its own seed; pass a classifier that has one."
        )
    estimator.set_params(**dict.fromkeys(names, seed))
