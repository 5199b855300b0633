"""Progress for people: which stage a long run is in, and the sampler's bars, on stderr.

Results go to stdout and progress to stderr, so ``bayes-qct fit offending > out.txt``
holds results only. Library code announces stages with :func:`stage` (a logger the CLI
shows unless ``--quiet``); :class:`ChainProgress` draws nutpie's chains as rich bars on
stderr.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

PROGRESS_LOGGER = "bayes_qct.progress"
_log = logging.getLogger(PROGRESS_LOGGER)


def stage(message: str, *args: Any) -> None:
    """Announce a stage of a long run (shown on stderr by the command line)."""
    _log.info(message, *args)


class _StderrHandler(logging.StreamHandler):
    """A stream handler that writes to whatever ``sys.stderr`` is when a message comes.

    A handler bound to the ``sys.stderr`` of the moment it was made keeps writing to that
    stream after it is replaced (a test's capture, a notebook's redirect) and, once it is
    closed, every stage message becomes a logging error.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def show_stages(enabled: bool = True) -> None:
    """Print :func:`stage` messages on stderr (the command line calls this)."""
    _log.setLevel(logging.INFO if enabled else logging.WARNING)
    if enabled and not any(getattr(h, "_bayes_qct", False) for h in _log.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s] %(message)s", "%H:%M:%S"))
        handler._bayes_qct = True  # type: ignore[attr-defined]
        _log.addHandler(handler)
        _log.propagate = False


class ChainProgress:
    """One rich progress bar per chain on stderr, fed by nutpie's ``progress_callback``."""

    def __init__(self, chains: int, *, enabled: bool = True, file: Any = None) -> None:
        self.enabled = enabled
        self._tasks: list[Any] = []
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("chain {task.fields[chain]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[phase]}"),
            TextColumn("divergences {task.fields[divergences]}"),
            console=Console(file=file or sys.stderr),
            transient=False,
        )
        self._tasks = [
            self._progress.add_task("", total=None, chain=i + 1, phase="", divergences=0)
            for i in range(chains)
        ]

    def __enter__(self) -> ChainProgress:
        if self.enabled:
            self._progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            self._progress.__exit__(*exc)

    def update(self, chain_progresses: Any) -> None:
        """Advance each chain's bar (``nutpie.ChainProgress`` objects)."""
        if not self.enabled:
            return
        for task, cp in zip(self._tasks, chain_progresses, strict=False):
            phase = "warm-up" if getattr(cp, "tuning", False) else "sampling"
            self._progress.update(
                task,
                completed=cp.finished_draws,
                total=cp.total_draws,
                phase=phase if cp.finished_draws < cp.total_draws else "done",
                divergences=len(cp.divergent_draws),
            )
