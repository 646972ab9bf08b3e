#
# SPDX-License-Identifier: Apache-2.0
#
"""File helpers: atomic writes (a killed process never leaves a half-written file) and checksums"""

import contextlib
import hashlib
import os
import tempfile


@contextlib.contextmanager
def atomic_path(path):
    """Context manager yielding a temporary path that replaces ``path`` on success

    The temporary file lives in the same directory, so the final
    :func:`os.replace` is atomic. On an exception the temporary file is
    removed and ``path`` is left untouched.

    Input
    -----
    path : `str` | `os.PathLike`
        Final destination
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory,
                               prefix=os.path.basename(path) + ".",
                               suffix=".tmp")
    os.close(fd)
    # mkstemp creates 0600 files: give the result the usual umask permissions
    umask = os.umask(0)
    os.umask(umask)
    try:
        yield tmp
        if os.path.exists(tmp):
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def file_sha256(path, chunk_size=1 << 20):
    """`str` : SHA-256 (hex) of the bytes of the file ``path``"""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk_size), b""):
            digest.update(block)
    return digest.hexdigest()
