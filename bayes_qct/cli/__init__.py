"""The ``bayes-qct`` command line: a thin typer layer over the library.

Each command lives in its own module (``bayes_qct.cli.fit``, ``.data`` ...), imported only
when that command runs: ``bayes-qct data validate`` never loads the samplers, ``fit``
never loads the audit. The root ``--help`` reads each command's one-line help from its
module's source (:func:`command_help`) instead of importing it.
"""

from __future__ import annotations

import ast
import importlib
import sys
from functools import cache
from pathlib import Path
from typing import Any

import click
import typer
from typer.core import TyperGroup

from bayes_qct.constants import TOOLKIT_VERSION as __version__

COMMANDS: dict[str, str] = {
    "fit": "fit",
    "compare": "compare",
    "check": "check",
    "audit": "audit",
    "sensitivity": "sensitivity",
    "report": "report",
    "simulate": "simulate",
    "data": "data",
}
"""Command name -> module of ``bayes_qct.cli`` defining its ``app`` (listed in this order)."""


@cache
def command_help(name: str) -> str:
    """Return the ``help`` text given to ``typer.Typer`` in a command's module, unimported.

    Falls back to importing the module when the help is not a literal string.
    """
    source = Path(__file__).with_name(f"{COMMANDS[name]}.py").read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "Typer"
        ):
            for keyword in node.keywords:
                if keyword.arg == "help" and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
    return command_app(name).info.help or ""


def command_app(name: str) -> typer.Typer:
    """Import a command's module and return its typer app."""
    return importlib.import_module(f"bayes_qct.cli.{COMMANDS[name]}").app


class LazyCommands(TyperGroup):
    """The root group: a command's module is imported when that command is resolved.

    While the root help is being formatted, commands resolve to stand-ins carrying only
    their one-line help, so ``bayes-qct --help`` imports no command module.
    """

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return the command names in their fixed order."""
        return [*COMMANDS, *(n for n in super().list_commands(ctx) if n not in COMMANDS)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Return the command, importing its module unless only its help is needed."""
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        if self._listing:
            return click.Command(cmd_name, help=command_help(cmd_name))
        command = typer.main.get_group(command_app(cmd_name))
        command.name = cmd_name
        return command

    def format_help(self, ctx: click.Context, formatter: Any) -> None:
        """Format the root help with stand-in commands (no command module imported)."""
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="bayes-qct",
    cls=LazyCommands,
    help=(
        "Bayesian reanalysis of the QCT drug-treatment cohort: hierarchical models of "
        "offending and drug-use days with explicit dropout models, the paper's own "
        "frequentist checks side by side, and an audit of its published numbers."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"bayes-qct {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Bayesian reanalysis toolkit for the QCT cohort."""


def main() -> None:
    """Console-script entry point."""
    # pandera imports hypothesis (0.9 s) for data-synthesis strategies whenever it is
    # installed (it is, for the tests); no command uses them, and pandera runs without
    # it. A process that already has hypothesis (pytest) is left as it is.
    if "hypothesis" not in sys.modules:
        sys.modules["hypothesis"] = None  # type: ignore[assignment]
    app()
