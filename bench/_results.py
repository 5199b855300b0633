"""Shared by the benchmark scripts: write one section of bench/RESULTS.md."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(text: str, section: str, path: Path = RESULTS) -> None:
    """Replace (or append) the section starting ``section`` in RESULTS.md, leaving the others."""
    old = path.read_text() if path.exists() else ""
    # the heading's whole line: "## Fit time against cohort size" is not "..., 0.4.0 (...)"
    start = old.find(section + "\n")
    if start < 0:
        new = old.rstrip() + "\n\n" + text
    else:
        end = old.find("\n## ", start + len(section))
        new = old[:start] + text + ("" if end < 0 else old[end + 1 :])
    path.write_text(new.rstrip() + "\n")


POST_STAGES = ("log_likelihood_and_ppc_s", "summary_s", "predict_and_estimands_s", "tables_s")


def post_seconds(wall_times: dict[str, float]) -> float:
    """A fit's post-processing time from fit.json's ``wall_times`` (writing included)."""
    return sum(wall_times.get(k, 0.0) for k in (*POST_STAGES, "write_s"))


def default_sampler_text(outcome: str = "offending") -> str:
    """The spec's sampler settings as a benchmark states them, read from models/<outcome>.toml."""
    import tomllib

    spec = Path(__file__).resolve().parents[1] / "models" / f"{outcome}.toml"
    s = tomllib.loads(spec.read_text())["sampler"]
    return (
        f"{s['sampler']} {s['chains']} x {s['draws']} draws after {s['tune']} warm-up, "
        f"target_accept {s['target_accept']}: models/{outcome}.toml"
    )
