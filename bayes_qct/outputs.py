"""Atomic, non-clobbering output writing."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas costs ~1.4 s to import; the CLI should not pay it for --help
    import pandas as pd

from bayes_qct.errors import RefusedOverwriteError


def _check_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise RefusedOverwriteError(f"{path} exists; pass --force to overwrite it")


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, force: bool = False) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename."""
    path = Path(path)
    _check_overwrite(path, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; outputs are for reading by others
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str, *, force: bool = False) -> Path:
    """Write text (UTF-8) atomically; refuses to overwrite unless ``force``."""
    return atomic_write_bytes(path, text.encode("utf-8"), force=force)


def atomic_write_csv(path: str | os.PathLike, table: pd.DataFrame, *, force: bool = False) -> Path:
    """Write a DataFrame as CSV (no index) atomically."""
    return atomic_write_text(path, table.to_csv(index=False, lineterminator="\n"), force=force)


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success it replaces ``path``.

    If the body raises, the temporary folder is removed and ``path`` is untouched, so an
    interrupted run leaves nothing half-made.
    """
    path = Path(path)
    _check_overwrite(path, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    tmp.chmod(0o755)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if path.exists():
        old = path.with_name(f".{path.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)
