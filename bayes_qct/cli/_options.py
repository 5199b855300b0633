"""Command-line options derived from the registries, not written out by hand.

Each parameter a missingness mechanism declares becomes an option (``--phi``,
``--lambda``, ``--delta``, ``--delta-qct`` ...) whose help says which mechanism takes
it; a mechanism added to the registry brings its options with it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import typer

from bayes_qct.modeling.missingness import all_parameters

MECHANISM_PREFIX = "mechanism_param__"


def option_name(key: str) -> str:
    """Return the command-line option of a parameter (``delta_qct`` -> ``--delta-qct``)."""
    return "--" + key.replace("_", "-")


def with_mechanism_options[F: Callable[..., Any]](fn: F, *, grid: bool = False) -> F:
    """Add one option per declared mechanism parameter to a typer command.

    The wrapped function receives them together as ``mechanism_params`` (a dict of the
    options given, name -> value): numbers, or with ``grid`` the grid texts a sweep
    parses (``-2:2:17``, ``-1,0,1``).
    """
    signature = inspect.signature(fn)
    params = [p for p in signature.parameters.values() if p.name != "mechanism_params"]
    annotations = {k: v for k, v in fn.__annotations__.items() if k != "mechanism_params"}
    extra = []
    for name, (param, owners) in all_parameters().items():
        arg = MECHANISM_PREFIX + name
        help_text = f"{param.description[0].upper()}{param.description[1:]} ({', '.join(owners)})."
        if grid:
            help_text = f"Grid of {name}, START:STOP:COUNT or a comma list: {help_text}"
        kind = (str | None) if grid else (float | None)
        extra.append(
            inspect.Parameter(
                arg,
                inspect.Parameter.KEYWORD_ONLY,
                default=typer.Option(None, option_name(name), help=help_text),
                annotation=kind,
            )
        )
        annotations[arg] = kind
    kinds = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {
            key.removeprefix(MECHANISM_PREFIX): kwargs.pop(key)
            for key in list(kwargs)
            if key.startswith(MECHANISM_PREFIX)
        }
        return fn(
            *args, mechanism_params={k: v for k, v in given.items() if v is not None}, **kwargs
        )

    wrapper.__signature__ = signature.replace(parameters=[*kinds, *extra])  # type: ignore[attr-defined]
    wrapper.__annotations__ = annotations
    return wrapper  # type: ignore[return-value]


def with_mechanism_grids[F: Callable[..., Any]](fn: F) -> F:
    """Add one grid option (``--delta -2:2:17``) per declared mechanism parameter."""
    return with_mechanism_options(fn, grid=True)
