"""The paper's published numbers as a typed, validated registry.

The numbers live in ``bayes_qct/data/paper.toml`` (one ``[[entry]]`` per quantitative
statement, with its section and a verbatim snippet). :func:`load_registry` reads and
validates that file; :class:`Registry` looks entries up by id or by any field.

Examples
--------
>>> reg = load_registry()
>>> [e.value for e in reg.find(kind="chi_square", outcome="homeless")]
[7.12, 7.12]
>>> reg.get("offending.wilcoxon.QCT.t1-t2.complete-case").r
-0.57
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from bayes_qct.constants import WAVES
from bayes_qct.errors import BadInputError, Problem

PACKAGED_FILE = "data/paper.toml"

KINDS: dict[str, tuple[str, ...]] = {
    "sample_size": ("value",),
    "count": ("value",),
    "percentage": ("value",),
    "percent_change": ("value", "unit"),
    "mean": ("value", "unit"),
    "median": ("value", "unit"),
    "chi_square": ("value", "df", "p_relation"),
    "t_test": ("value", "df", "p_relation"),
    "wilcoxon": ("value", "z", "p_relation", "r"),
    "mann_whitney": ("value", "p_relation"),
    "spearman": ("value", "p_relation"),
    "odds_ratio": ("value", "ci_low", "ci_high", "p_relation"),
    "nagelkerke_r2": ("value", "n"),
    "figure_value": ("value", "unit", "group", "wave", "decoding"),
    "ns_claim": ("test", "p_relation"),
    "design": ("value", "unit"),
    "external": ("value", "unit"),
}
"""Known kinds and the fields each must carry (besides id, kind, section, quote)."""

GROUPS = ("QCT", "voluntary", "all")
CONTRASTS = ("t1-t2", "t1-t4", "t2-t4")
HANDLINGS = ("complete-case", "locf", "observed")
P_RELATIONS = ("<", "=", "ns")
DECODINGS = ("certain", "inferred")
DENOMINATOR_SOURCES = ("printed", "context")

_CHOICES: dict[str, tuple[str, ...]] = {
    "kind": tuple(KINDS),
    "group": GROUPS,
    "wave": WAVES,
    "contrast": CONTRASTS,
    "handling": HANDLINGS,
    "p_relation": P_RELATIONS,
    "decoding": DECODINGS,
    "denominator_source": DENOMINATOR_SOURCES,
}


@dataclass(frozen=True)
class Entry:
    """One published number (or "not significant" statement) of the paper.

    Only ``id``, ``kind``, ``section`` and ``quote`` are always present; the other fields
    are ``None`` where they do not apply. ``value`` is the number as printed (the z of a
    Wilcoxon test, the chi-square, the t, the U, the rs, the odds ratio, the percent, the
    mean ...). See the header of ``paper.toml`` for the whole vocabulary.
    """

    id: str
    kind: str
    section: str
    quote: str
    outcome: str | None = None
    group: str | None = None
    wave: str | None = None
    contrast: str | None = None
    handling: str | None = None
    value: float | None = None
    n: int | None = None
    df: int | None = None
    z: float | None = None
    p: float | None = None
    p_relation: str | None = None
    r: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    unit: str | None = None
    numerator: int | None = None
    denominator: int | None = None
    denominator_source: str | None = None
    count_qct: int | None = None
    n_qct: int | None = None
    count_voluntary: int | None = None
    n_voluntary: int | None = None
    pct_qct: float | None = None
    pct_voluntary: float | None = None
    counts_source: str | None = None
    approx: str | None = None
    decimals: int | None = None
    decoding: str | None = None
    test: str | None = None
    note: str | None = None

    def printed_decimals(self, field: str = "value") -> int:
        """Decimals the number in ``field`` was printed with.

        ``decimals`` overrides (for trailing zeros such as ``r = -.20``, which apply to
        the entry's ``value`` and ``r``); otherwise read off the stored number.
        """
        if self.decimals is not None and field in ("value", "r", "z"):
            return self.decimals
        number = getattr(self, field)
        if number is None:
            raise ValueError(f"{self.id}: field {field!r} is empty")
        text = repr(float(number))
        if "e" in text:
            return 0
        _, _, frac = text.partition(".")
        return 0 if frac == "0" else len(frac)


_FIELD_TYPES: dict[str, type] = {
    "int": int,
    "float": float,
    "str": str,
}
_FIELDS = {f.name: f for f in fields(Entry)}


def _expected_type(name: str) -> type:
    annotation = str(_FIELDS[name].type)
    return _FIELD_TYPES[annotation.split(" ")[0]]


class Registry:
    """The validated list of published numbers, with look-ups."""

    def __init__(self, entries: list[Entry], *, source: str = PACKAGED_FILE) -> None:
        self.entries: tuple[Entry, ...] = tuple(entries)
        self.source = source
        self._by_id = {e.id: e for e in self.entries}

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def get(self, entry_id: str) -> Entry:
        """Return the entry with this id (``KeyError`` naming close ids if absent)."""
        try:
            return self._by_id[entry_id]
        except KeyError:
            stem = entry_id.split(".")[0]
            near = [i for i in self._by_id if i.startswith(stem)][:5]
            raise KeyError(
                f"no registry entry {entry_id!r}; ids starting {stem!r}: {near}"
            ) from None

    def find(self, **attrs: Any) -> list[Entry]:
        """Entries whose fields equal every given value, in file order.

        Unknown field names raise ``TypeError`` (a typo must not return an empty list).
        """
        unknown = sorted(set(attrs) - set(_FIELDS))
        if unknown:
            raise TypeError(f"Registry.find: unknown field(s) {unknown}; known: {sorted(_FIELDS)}")
        return [e for e in self.entries if all(getattr(e, k) == v for k, v in attrs.items())]

    def table(self) -> pd.DataFrame:
        """All entries as a DataFrame, one row per entry, one column per field."""
        return pd.DataFrame([asdict(e) for e in self.entries], columns=list(_FIELDS))

    def counts_by_kind(self) -> dict[str, int]:
        """Count the entries of each kind."""
        return dict(Counter(e.kind for e in self.entries))


def _check_entry(raw: dict[str, Any], index: int, file: str) -> list[Problem]:
    where = f"entry {index + 1} ({raw.get('id', '<no id>')})"
    problems = []

    def problem(message: str, column: str | None = None, expected: str | None = None) -> None:
        problems.append(Problem(file, message, row=where, column=column, expected=expected))

    for name in ("id", "kind", "section", "quote"):
        if not raw.get(name):
            problem("missing required field", name)
    for name in sorted(set(raw) - set(_FIELDS)):
        problem("unknown field", name, expected=f"one of {sorted(_FIELDS)}")
    for name, value in raw.items():
        if name not in _FIELDS:
            continue
        want = _expected_type(name)
        ok = isinstance(value, want) and not isinstance(value, bool)
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            problem(f"has type {type(value).__name__}", name, expected=want.__name__)
        elif name in _CHOICES and value not in _CHOICES[name]:
            problem(f"unknown value {value!r}", name, expected=f"one of {list(_CHOICES[name])}")
    kind = raw.get("kind")
    if kind in KINDS:
        for name in KINDS[kind]:
            if raw.get(name) is None:
                problem(f"required for kind {kind!r}", name)
    if raw.get("p_relation") in ("<", "=") and raw.get("p") is None:
        problem("p_relation '<' or '=' needs the printed p", "p")
    if raw.get("p_relation") == "ns" and raw.get("p") is not None:
        problem("p given with p_relation 'ns'", "p")
    if kind == "ns_claim" and raw.get("p_relation") != "ns":
        problem("an ns_claim must have p_relation 'ns'", "p_relation")
    return problems


def _coerce(raw: dict[str, Any]) -> Entry:
    values = {}
    for name, value in raw.items():
        values[name] = float(value) if _expected_type(name) is float else value
    return Entry(**values)


def parse_registry(data: dict[str, Any], *, file: str = PACKAGED_FILE) -> Registry:
    """Validate a parsed TOML document and build the :class:`Registry`.

    Raises
    ------
    BadInputError
        Listing every problem at once: missing or unknown fields, wrong types, unknown
        kinds or vocabulary, fields a kind requires, duplicate ids.
    """
    raws = data.get("entry")
    if not isinstance(raws, list) or not raws:
        raise BadInputError([Problem(file, "no [[entry]] tables found")])
    problems: list[Problem] = []
    for index, raw in enumerate(raws):
        problems.extend(_check_entry(raw, index, file))
    duplicates = [i for i, c in Counter(r.get("id") for r in raws).items() if c > 1]
    for entry_id in duplicates:
        problems.append(Problem(file, f"duplicate id {entry_id!r}", column="id"))
    if problems:
        raise BadInputError(problems)
    return Registry([_coerce(raw) for raw in raws], source=file)


def load_registry(path: str | Path | None = None) -> Registry:
    """Read and validate the registry (the packaged ``paper.toml`` unless ``path``)."""
    if path is None:
        resource = resources.files("bayes_qct").joinpath(PACKAGED_FILE)
        text = resource.read_text(encoding="utf-8")
        file = f"bayes_qct/{PACKAGED_FILE}"
    else:
        text = Path(path).read_text(encoding="utf-8")
        file = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInputError([Problem(file, f"not valid TOML: {exc}")]) from None
    return parse_registry(data, file=file)
