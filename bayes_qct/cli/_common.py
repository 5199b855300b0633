"""Shared plumbing of the command line: consoles, error handling, exit codes.

Every message that quotes something a user supplied (a file name, a column, a label, a
site) is printed as plain text, never as rich markup: ``[column]`` or a site named ``[b]``
must reach the terminal as written. :func:`plain` and :func:`styled` build such text.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from bayes_qct.errors import BayesQCTError

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def plain(value: object) -> Text:
    """Return text printed exactly as written (no markup): for table cells."""
    return Text(str(value))


def styled(label: str, style: str, rest: object = "") -> Text:
    """Return a styled label, then plain text: ``styled("error:", "bold red", message)``."""
    return Text.assemble((label, style), " " if rest != "" else "", str(rest))


def print_warning(message: object) -> None:
    """Print a warning on stderr, the message as written."""
    err_console.print(styled("warning:", "yellow", message), highlight=False)


def print_note(message: object) -> None:
    """Print a note on stderr (something the user may not expect), the message as written."""
    err_console.print(styled("note:", "cyan", message), highlight=False)


def handle_errors[F: Callable[..., Any]](fn: F) -> F:
    """Turn the toolkit's exceptions into a clear message and the contract's exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BayesQCTError as exc:
            err_console.print(styled("error:", "bold red", exc), highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def setup_logging(verbose: bool, *, stages: bool = True) -> None:
    """Route the library's logging to stderr, and the stages of a long run unless quiet."""
    from bayes_qct.progress import show_stages

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    show_stages(stages)
