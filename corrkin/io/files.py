"""What every reader of a clip's file shares: the one-line error it raises, and the check that a
path is a regular file of a sane size before anything opens it.

A module of its own so the format readers (:mod:`corrkin.io.keypoints`, :mod:`corrkin.io.trc`,
:mod:`corrkin.io.openpose`) share it without importing each other.
"""

from __future__ import annotations

import os

MAX_KEYPOINT_BYTES = 2 << 30  # a keypoint file larger than this is not one (100,000 frames take ~10 MB)
MAX_VIDEO_BYTES = 64 << 30


def regular_file(path: str | os.PathLike, limit: int) -> int:
    """The size of ``path`` if it is a regular file of at most ``limit`` bytes; else ``OSError``
    saying why. Nothing is opened: a FIFO or a device (``/dev/zero``) is refused before a read
    could block or never end."""
    import errno
    import stat

    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise OSError(errno.EINVAL, "not a regular file (a device, FIFO or socket is never read)")
    if st.st_size > limit:
        raise OSError(errno.EFBIG, f"{st.st_size / 2**30:.1f} GiB, more than the {limit / 2**30:g} GiB a clip file may be")
    return st.st_size


class ClipError(Exception):
    """A clip that cannot be analysed; ``str()`` is one line naming the file and the reason."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")

    def __reduce__(self):  # picklable across worker processes
        return type(self), (self.path, self.reason)
