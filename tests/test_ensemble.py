"""Soft voting over networks with distinct seeds."""

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline

from conftest import fast_mlp
from mnistkit import PixelNormalizer, make_ensemble


def test_members_get_distinct_seeds_drawn_from_the_ensemble_seed():
    ensemble = make_ensemble(fast_mlp(), 4, random_state=0, n_jobs=2)
    seeds = [member.random_state for _, member in ensemble.estimators]
    assert len(set(seeds)) == 4
    again = make_ensemble(fast_mlp(), 4, random_state=0)
    assert [member.random_state for _, member in again.estimators] == seeds
    other = make_ensemble(fast_mlp(), 4, random_state=1)
    assert [member.random_state for _, member in other.estimators] != seeds
    assert (ensemble.voting, ensemble.n_jobs) == ("soft", 2)


def test_without_a_seed_each_member_draws_its_own():
    ensemble = make_ensemble(fast_mlp(random_state=None), 3)
    assert [member.random_state for _, member in ensemble.estimators] == [None] * 3


def test_pipeline_members_are_seeded_in_their_steps():
    pipe = make_pipeline(PixelNormalizer(max_value=16), fast_mlp())
    ensemble = make_ensemble(pipe, 2, random_state=0)
    seeds = [member[-1].random_state for _, member in ensemble.estimators]
    assert len(set(seeds)) == 2
    assert pipe[-1].random_state == 0  # the estimator given is never changed


def test_soft_vote_is_the_mean_of_the_members_probabilities(digits01):
    X, y = digits01
    ensemble = make_ensemble(fast_mlp(epochs=5), 3, random_state=0).fit(X, y)
    members = ensemble.estimators_
    mean = np.mean([member.predict_proba(X) for member in members], axis=0)
    np.testing.assert_allclose(ensemble.predict_proba(X), mean, rtol=1e-6)
    probas = [member.predict_proba(X) for member in members]
    assert not np.allclose(probas[0], probas[1])  # distinct networks
    assert ensemble.score(X, y) >= max(m.score(X, y) for m in members) - 0.01


def test_a_member_without_a_seed_is_refused():
    with pytest.raises(ValueError, match="no random_state"):
        make_ensemble(KNeighborsClassifier(), 2, random_state=0)
    # An unseeded ensemble needs none.
    make_ensemble(KNeighborsClassifier(), 2)


def test_members_fitted_at_once_equal_members_fitted_in_turn(digits01):
    import joblib

    X, y = digits01
    in_turn = make_ensemble(fast_mlp(epochs=3), 2, random_state=0).fit(X, y)
    at_once = make_ensemble(fast_mlp(epochs=3), 2, random_state=0, n_jobs=2)
    with joblib.parallel_config(backend="threading"):
        at_once.fit(X, y)
    np.testing.assert_array_equal(at_once.predict_proba(X), in_turn.predict_proba(X))
