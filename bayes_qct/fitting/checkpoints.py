"""Checkpoints of a sweep: one file per finished point, resumed by a rerun, never mixed.

A sweep (sensitivity grid, simulation study, K-fold refits) saves each point as soon as
it is done, so an interrupted run loses nothing and a rerun with the same arguments
skips finished points. The folder's ``key.json`` records the arguments that determine
the results; a rerun with other arguments is refused (the overwrite rules of ``fit``)
unless forced, which clears the folder first.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from bayes_qct.errors import RefusedOverwriteError
from bayes_qct.outputs import atomic_write_text

KEY_FILE = "key.json"
POINTS = "points"
_SAFE = re.compile(r"[^A-Za-z0-9_.=+-]")


def point_file_name(point_id: str) -> str:
    """Return a file-safe name for a point id (``phi=-1.5`` stays readable)."""
    return _SAFE.sub("_", point_id) + ".json"


def _canonical(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str))


class CheckpointStore:
    """A folder of per-point JSON records keyed by the sweep's arguments.

    Parameters
    ----------
    folder
        Where the checkpoints live (created).
    key
        JSON-serialisable arguments that determine every point's result.
    force
        Clear a folder that holds another sweep's points instead of refusing.

    Raises
    ------
    RefusedOverwriteError
        When the folder holds checkpoints of other arguments and ``force`` is not set;
        the message names what differs.
    """

    def __init__(self, folder: str | Path, key: dict[str, Any], *, force: bool = False) -> None:
        self.folder = Path(folder)
        self.key = _canonical(key)
        stored = self._stored_key()
        if stored is not None and stored != self.key:
            if not force:
                changed = sorted(
                    k for k in set(stored) | set(self.key) if stored.get(k) != self.key.get(k)
                )
                raise RefusedOverwriteError(
                    f"{self.folder} holds results of other arguments (changed: "
                    f"{', '.join(changed)}); pass --force to replace them, or --out DIR"
                )
            shutil.rmtree(self.folder / POINTS, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        if stored != self.key:
            atomic_write_text(
                self.folder / KEY_FILE, json.dumps(self.key, indent=2) + "\n", force=True
            )

    def _stored_key(self) -> dict[str, Any] | None:
        try:
            return json.loads((self.folder / KEY_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def path(self, point_id: str) -> Path:
        """Return the file of one point."""
        return self.folder / POINTS / point_file_name(point_id)

    def done(self, point_id: str) -> bool:
        """Return True when the point's result is saved."""
        return self.path(point_id).is_file()

    def save(self, point_id: str, record: dict[str, Any]) -> None:
        """Save one point's result atomically (the point id is stored with it)."""
        text = json.dumps({"point": point_id, **record}, indent=1, default=str) + "\n"
        atomic_write_text(self.path(point_id), text, force=True)

    def load(self, point_id: str) -> dict[str, Any]:
        """One saved point."""
        return json.loads(self.path(point_id).read_text(encoding="utf-8"))

    def all(self) -> list[dict[str, Any]]:
        """Every saved point, in file order."""
        folder = self.folder / POINTS
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
