"""Files written so that readers never see half of one."""

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
            # mkstemp makes the file private (0600); give it the mode of the
            # file it replaces, or the usual 0644.
            mode = self.path.stat().st_mode if self.path.exists() else 0o644
            os.chmod(self.temporary, mode & 0o777)
            os.replace(self.temporary, self.path)
        else:
            self.temporary.unlink(missing_ok=True)
        return False
