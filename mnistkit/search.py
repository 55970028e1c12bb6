"""Hyperparameter searches over the benchmark's models, from Python or the command.

``mnistkit search`` runs these functions; a notebook calls them directly:

>>> from mnistkit import load_train_test
>>> from mnistkit.search import parse_param, run_search
>>> data = load_train_test("digits", n_train=300)
>>> search = run_search("logreg", dict([parse_param("C=0.1,1")]), data, cv=2)
>>> sorted(search.best_params_)
['logreg__C']

`run_search` builds the benchmark's pipeline for a model (pixels scaled
into [0, 1], then the classifier, seeded), checks every parameter name and
value before the first fit, and runs scikit-learn's `GridSearchCV`, or its
`HalvingGridSearchCV` with ``halving=True``. The networks' resource in a
halving search is their epochs: many candidates train a few epochs, and the
best third go on to three times as many. `mnistkit.report.write_search_report`
writes what a search found.
"""

import ast
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator
    from sklearn.model_selection import GridSearchCV
    from sklearn.utils import Bunch

__all__ = ["parse_param", "qualified_param_grid", "run_search"]


def parse_param(text: str) -> tuple[str, list[Any]]:
    """A search parameter from the command line's ``NAME=VALUE[,VALUE...]``.

    Each value is read as a Python literal where it is one (``3``, ``1e-3``,
    ``True``, ``None``, ``(16, 32)``) and kept as text otherwise (``deep``).
    Commas inside brackets belong to the value.

    Parameters
    ----------
    text : str
        E.g. ``"learning_rate=1e-3,3e-3"`` or ``"filters=(16,32),(32,64)"``.

    Returns
    -------
    name : str
        The parameter's name.
    values : list
        Its values, in order.

    Examples
    --------
    >>> from mnistkit.search import parse_param
    >>> parse_param("learning_rate=1e-3,3e-3")
    ('learning_rate', [0.001, 0.003])
    >>> parse_param("architecture=fast,deep")
    ('architecture', ['fast', 'deep'])
    >>> parse_param("filters=(16,32),(8,16)")
    ('filters', [(16, 32), (8, 16)])
    """
    name, equals, values = text.partition("=")
    name = name.strip()
    pieces = _split_top_level(values)
    if not equals or not name.isidentifier() or not all(p.strip() for p in pieces):
        raise ValueError(
            f"a search parameter is NAME=VALUE[,VALUE...], e.g. "
            f"learning_rate=1e-3,3e-3; got {text!r}."
        )
    return name, [_literal(piece.strip()) for piece in pieces]


def _split_top_level(text):
    """`text` split at the commas outside brackets and quotes."""
    pieces, depth, start, quote = [], 0, 0, None
    for position, character in enumerate(text):
        if quote:
            quote = None if character == quote else quote
        elif character in "'\"":
            quote = character
        elif character in "([{":
            depth += 1
        elif character in ")]}":
            depth -= 1
        elif character == "," and depth == 0:
            pieces.append(text[start:position])
            start = position + 1
    return [*pieces, text[start:]]


def _literal(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def qualified_param_grid(
    model: "BaseEstimator", param_grid: Mapping[str, Sequence[Any]]
) -> dict[str, list[Any]]:
    """`param_grid` with the names `model`'s pipeline knows, every value checked.

    A name of the final classifier's (``learning_rate``) becomes the
    pipeline's (``cnnclassifier__learning_rate``); a pipeline's own name is
    kept. Each value is set on a copy of the step it belongs to and checked
    as a fit would check it, so that a bad name or value is one clear error
    before any fit.

    Parameters
    ----------
    model : sklearn.pipeline.Pipeline
        The unfitted pipeline searched over.
    param_grid : dict of str to list
        Values of each parameter.

    Returns
    -------
    param_grid : dict of str to list
        The same values under the pipeline's names.

    Examples
    --------
    >>> from mnistkit import make_logistic_baseline
    >>> from mnistkit.search import qualified_param_grid
    >>> qualified_param_grid(make_logistic_baseline(), {"C": [0.1, 1.0]})
    {'logreg__C': [0.1, 1.0]}
    """
    from sklearn.base import clone

    step, final = model.steps[-1]
    known = model.get_params()
    own = final.get_params(deep=False)
    routed = _is_network(final)
    qualified = {}
    for name, values in param_grid.items():
        if name in own or (routed and name.partition("__")[0] in _routing_prefixes()):
            full, target, short = f"{step}__{name}", final, name
        elif name in known:
            full, short = name, name.rpartition("__")[2]
            target = model.get_params()[name.rpartition("__")[0]]
        else:
            raise ValueError(
                f"{type(final).__name__} has no parameter {name!r}; its parameters "
                f"are {', '.join(sorted(own))}."
            )
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError(
                f"{name} needs a list of values to search; got {values!r}."
            )
        for value in values:
            _check_value(clone(target).set_params(**{short: value}), name, value)
        qualified[full] = list(values)
    return qualified


def _is_network(estimator):
    """Whether `estimator` is one of mnistkit's Keras classifiers.

    Asked without importing the estimator base, which loads TensorFlow: a
    network's module has loaded it already, and a search of the baselines
    needs no TensorFlow.
    """
    base = sys.modules.get("mnistkit._keras_base")
    return base is not None and isinstance(estimator, base.BaseKerasClassifier)


def _routing_prefixes():
    return sys.modules["mnistkit._keras_base"].ROUTING_PREFIXES


def _check_value(estimator, name, value):
    """Check `estimator`'s parameters as its fit would, naming the bad one."""
    check = getattr(estimator, "_check_params", None) or estimator._validate_params
    try:
        check()
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}={value!r} is not a value it takes: {error}") from None


def run_search(
    model: str,
    param_grid: Mapping[str, Sequence[Any]],
    data: "Bunch",
    *,
    cv: int = 3,
    halving: bool = False,
    random_state: int = 0,
    n_jobs: int | None = None,
    progress: Callable[[dict[str, Any], float], object] | None = None,
) -> "GridSearchCV":
    """Search `model`'s parameters on `data`'s training images, and refit the best.

    Parameters
    ----------
    model : str
        One of the benchmark's models (``mnistkit.benchmark.BENCHMARK_MODELS``:
        "cnn", "mlp", "logreg", "svm"...), built as the benchmark builds it.
    param_grid : dict of str to list
        Values of each parameter, under the classifier's names
        (``learning_rate``) or the pipeline's.
    data : Bunch
        As from `mnistkit.load_train_test`; the search sees only its training
        images.
    cv : int, default=3
        Folds of the cross-validation (stratified).
    halving : bool, default=False
        Successive halving (`sklearn.model_selection.HalvingGridSearchCV`,
        factor 3): for the networks, the epochs grow from rung to rung up to
        what their ``epochs`` takes on a fold (the "auto" number, or the value
        set); for the other models, the training images. ``epochs`` cannot
        then be a searched parameter.
    random_state : int, default=0
        Seeds every fit's ``random_state`` and the halving search's sampling.
    n_jobs : int or None, default=None
        Fits at a time, as for scikit-learn's searches (joblib's backend
        decides where: ``joblib.parallel_config(backend="dask")`` sends them to
        a Dask cluster).
    progress : callable or None, default=None
        Called after each fit is scored, as ``progress(params, score)`` with
        the fit's parameters (the searched ones, by their given names) and
        its validation accuracy; fits run in this process only (``n_jobs``
        None or 1, no Dask) for it to be called.

    Returns
    -------
    search : GridSearchCV or HalvingGridSearchCV
        Fitted, with ``best_estimator_`` refit on all the training images;
        ``best_params_`` and ``cv_results_`` name the parameters as the
        pipeline does (``logreg__C``).

    Examples
    --------
    >>> from mnistkit import load_train_test
    >>> from mnistkit.search import run_search
    >>> data = load_train_test("digits", n_train=300)
    >>> scores = []
    >>> search = run_search("logreg", {"C": [0.1, 1.0]}, data, cv=2,
    ...                     progress=lambda params, score: scores.append(params))
    >>> scores
    [{'C': 0.1}, {'C': 0.1}, {'C': 1.0}, {'C': 1.0}]
    >>> search.best_estimator_.score(data.X_test, data.y_test) > 0.8
    True
    """
    from .benchmark import make_benchmark_models, set_random_states

    (pipeline,) = make_benchmark_models([model], data).values()
    set_random_states(pipeline, random_state)
    grid = qualified_param_grid(pipeline, param_grid)
    names = dict(zip(grid, param_grid, strict=True))
    options = dict(cv=cv, n_jobs=n_jobs, refit=True, return_train_score=False)
    if halving:
        search = _halving_search(pipeline, grid, data, random_state, options)
        if search.resource != "n_samples":
            names[search.resource] = "epochs"
    else:
        from sklearn.model_selection import GridSearchCV

        search = GridSearchCV(pipeline, grid, **options)
    if progress is not None:
        search.set_params(scoring=_FollowedScorer(progress, names))
    return search.fit(data.X_train, data.y_train)


def _halving_search(pipeline, grid, data, random_state, options):
    """A HalvingGridSearchCV whose resource is the network's epochs, if any."""
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    step, final = pipeline.steps[-1]
    if not _is_network(final):
        return HalvingGridSearchCV(pipeline, grid, random_state=random_state, **options)
    from ._training import auto_batch_size, auto_epochs

    resource = f"{step}__epochs"
    if resource in grid:
        raise ValueError(
            "a halving search grows the epochs from rung to rung: leave epochs "
            "out of the searched parameters."
        )
    epochs = final.epochs
    if epochs == "auto":
        # What "auto" takes on a fold's training images, less the validation
        # split the benchmark's networks hold out.
        n_train = math.floor(len(data.X_train) * (options["cv"] - 1) / options["cv"])
        n_train = math.floor(n_train * (1 - (final.validation_fraction or 0)))
        epochs = auto_epochs(
            n_train, auto_batch_size(n_train), final._large_data_epochs
        )
    return HalvingGridSearchCV(
        pipeline,
        grid,
        resource=resource,
        max_resources=epochs,
        min_resources="exhaust",
        random_state=random_state,
        **options,
    )


class _FollowedScorer:
    """Accuracy, as a search's scorer, telling `progress` of each fit scored."""

    def __init__(self, progress, names):
        self.progress = progress
        self.names = names

    def __call__(self, estimator, X, y):
        score = estimator.score(X, y)
        params = estimator.get_params()
        self.progress({name: params[key] for key, name in self.names.items()}, score)
        return score
