"""Classical baselines on the same pixels as the neural networks.

Each is a plain scikit-learn Pipeline: ``PixelNormalizer`` then the model, so the
comparison with `CNNClassifier` and `MLPClassifier` is on identical inputs.
"""

from typing import Any

from sklearn.decomposition import PCA
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC, LinearSVC

from .preprocessing import PixelNormalizer


def make_logistic_baseline(*, max_value: float = 255.0, **params: Any) -> Pipeline:
    """Multinomial logistic regression on pixels scaled to [0, 1].

    Parameters
    ----------
    max_value : float, default=255.0
        Passed to `PixelNormalizer`: the intensity that maps to 1.
    **params : dict
        Parameters of ``LogisticRegression``, overriding the defaults
        ``C=0.1, max_iter=200``. ``C=0.1`` regularises the 784 weights of each
        class enough to converge in 200 lbfgs iterations on MNIST.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Steps ``"normalize"`` and ``"logreg"``.

    Examples
    --------
    >>> from mnistkit import load_digits_images, make_logistic_baseline
    >>> X, y = load_digits_images("train", return_X_y=True)
    >>> X_test, y_test = load_digits_images("test", return_X_y=True)
    >>> make_logistic_baseline(C=1.0).fit(X, y).score(X_test, y_test) > 0.9
    True
    """
    logreg = LogisticRegression(**{"C": 0.1, "max_iter": 200, **params})
    return Pipeline([("normalize", PixelNormalizer(max_value)), ("logreg", logreg)])


def make_svm_baseline(
    *,
    max_value: float = 255.0,
    n_components: int | None = None,
    kernel_approximation: int | None = None,
    **params: Any,
) -> Pipeline:
    """Support vector machine with an RBF kernel, on pixels scaled to [0, 1].

    Parameters
    ----------
    max_value : float, default=255.0
        Passed to `PixelNormalizer`: the intensity that maps to 1.
    n_components : int or None, default=None
        Project the pixels onto their first `n_components` principal
        components (``PCA``) before the SVM. Each kernel evaluation then costs
        ``n_components / n_pixels`` as much: on MNIST, 50 components train
        the exact SVM's kernel about 15 times faster, and the directions
        dropped are mostly noise. None keeps every pixel.
    kernel_approximation : int or None, default=None
        None trains an exact ``SVC`` (defaults ``C=5, gamma=0.05``, the
        classic setting for MNIST; its fit grows quadratically with the number
        of samples, minutes on the 60,000 MNIST images). An int approximates
        the same kernel with that many ``Nystroem`` components and trains a
        linear SVM (``LinearSVC(C=5)``), which scales linearly.
    **params : dict
        Parameters of the final ``SVC`` or ``LinearSVC``, overriding the
        defaults above; with `kernel_approximation`, ``gamma`` goes to
        ``Nystroem`` and ``random_state`` to both.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Steps ``"normalize"`` and ``"svm"``, with ``"pca"`` between them
        with `n_components` and ``"nystroem"`` when approximating the kernel.

    Examples
    --------
    >>> from mnistkit import load_digits_images, make_svm_baseline
    >>> X, y = load_digits_images("train", return_X_y=True)
    >>> X_test, y_test = load_digits_images("test", return_X_y=True)
    >>> make_svm_baseline().fit(X, y).score(X_test, y_test) > 0.95
    True
    >>> approx = make_svm_baseline(kernel_approximation=300, random_state=0)
    >>> approx.fit(X, y).score(X_test, y_test) > 0.95
    True
    >>> projected = make_svm_baseline(n_components=20, gamma=0.2)
    >>> [step for step, _ in projected.steps]
    ['normalize', 'pca', 'svm']
    >>> projected.fit(X, y).score(X_test, y_test) > 0.95
    True
    """
    steps = [("normalize", PixelNormalizer(max_value))]
    if n_components is not None:
        # PCA's randomized solver would make the fit depend on a seed.
        steps.append(("pca", PCA(n_components, svd_solver="covariance_eigh")))
    if kernel_approximation is None:
        steps.append(("svm", SVC(**{"C": 5.0, "gamma": 0.05, **params})))
    else:
        nystroem = Nystroem(
            gamma=params.pop("gamma", 0.05),
            n_components=kernel_approximation,
            random_state=params.get("random_state"),
        )
        steps += [("nystroem", nystroem), ("svm", LinearSVC(**{"C": 5.0, **params}))]
    return Pipeline(steps)
