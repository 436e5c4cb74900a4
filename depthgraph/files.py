"""Output files: a path made ready to be written, or a clear `OutputError` naming it."""

from __future__ import annotations

import os
from pathlib import Path

from depthgraph.errors import OutputError


def writable_path(path: str | Path, what: str) -> Path:
    """``path`` as a `Path` with its folder made; an `OutputError` naming ``what`` if it cannot be written.

    Jobs that run for minutes (``depthgraph calibrate``, ``validate``) check their outputs with
    this before timing anything, so that a bad ``-o`` costs a line, not the job.

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> writable_path(f"{folder}/new/profile.json", "profile").parent.is_dir()
    True
    >>> writable_path(folder, "profile")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    depthgraph.errors.OutputError: cannot write profile ...: it is a folder
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write {what} {str(path)!r}: {exc.strerror or exc}") from None
    if target.is_dir():
        raise OutputError(f"cannot write {what} {str(path)!r}: it is a folder")
    if not os.access(target.parent, os.W_OK):
        raise OutputError(f"cannot write {what} {str(path)!r}: its folder is read-only")
    return target
