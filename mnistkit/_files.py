"""Files: written so that readers never see half of one; model files checked."""

import os
import tempfile
from pathlib import Path


class atomic_file:
    """Context manager giving a temporary path that replaces `path` on success.

    On any error the temporary file is removed and `path` is left as it was.
    """

    def __init__(self, path):
        self.path = Path(path)

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".part"
        )
        os.close(handle)
        self.temporary = Path(name)
        return self.temporary

    def __exit__(self, error_type, error, traceback):
        if error_type is None:
            os.replace(self.temporary, self.path)
        else:
            self.temporary.unlink(missing_ok=True)
        return False


# What `mnistkit train` saves, and `evaluate` and `predict` read: a joblib
# (pickle) payload of the fitted model and the data set it was trained on.
MODEL_FILE_KEYS = ("model", "dataset", "kind")


def write_model_file(path, model, *, dataset, kind):
    """Save a fitted model for the command line, atomically."""
    import joblib

    payload = {"model": model, "dataset": dataset, "kind": kind}
    with atomic_file(path) as temporary:
        joblib.dump(payload, temporary)
    return Path(path)


def read_model_file(path):
    """The payload of a file that `write_model_file` wrote, checked.

    Raises OSError when the file is missing, and ValueError, naming the file,
    when it holds anything but such a payload with a fitted classifier.
    """
    import joblib
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    path = Path(path)
    if not path.is_file():
        raise OSError(f"no such model file: {path}")
    hint = "train one with: mnistkit train --model cnn --output MODEL.joblib"
    try:
        payload = joblib.load(path)
    except Exception as error:  # unpickling can raise almost anything
        raise ValueError(
            f"{path} is not a model saved by mnistkit train "
            f"({type(error).__name__}: {error}); {hint}"
        ) from None
    if not isinstance(payload, dict) or set(payload) != set(MODEL_FILE_KEYS):
        raise ValueError(f"{path} is not a model saved by mnistkit train; {hint}")
    model = payload["model"]
    if not all(hasattr(model, name) for name in ("predict", "predict_proba")):
        raise ValueError(f"{path} holds no classifier with predict_proba; {hint}")
    try:
        check_is_fitted(model)
    except NotFittedError:
        raise ValueError(f"{path} holds an unfitted model; {hint}") from None
    if not isinstance(payload["dataset"], str):
        raise ValueError(f"{path} does not name the data set it was trained on; {hint}")
    return payload
