"""The typed record of a fit (``fit.json``), built in one place and read back.

``fit.json`` is part of the data contract: scripts read it. :class:`FitRecord` is its
only writer and reader, so the pipeline, the loaders, the report and the tests agree on
every key. The key (:class:`FitKey`) separates what determines the posterior from what
only changes the post-processing, so a fit whose posterior already exists is made by
post-processing alone.
"""

from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bayes_qct.constants import CI_KIND, CI_PROB, TOOLKIT_VERSION
from bayes_qct.modeling.missingness import get_mechanism
from bayes_qct.modeling.spec import ModelSpec, spec_from_dict

if TYPE_CHECKING:
    from bayes_qct.data.cohort import Cohort
    from bayes_qct.estimands.diagnostics import Diagnostics


@dataclass(frozen=True)
class FitKey:
    """What must be equal for a fit (or its posterior) to be reused.

    Attributes
    ----------
    data_sha256
        Hash of the data file (and of the mapping, when one was used).
    posterior_fingerprint
        :meth:`ModelSpec.posterior_fingerprint`: model, priors, posterior parameters of
        the mechanism, sampler settings and seed.
    spec_fingerprint
        :meth:`ModelSpec.fingerprint`: all of the above and the post-processing choices.
    options
        Options that change results beyond the spec.
    toolkit_version
        The toolkit's version (a fit of another version is not reused).
    """

    data_sha256: str
    posterior_fingerprint: str
    spec_fingerprint: str
    options: dict[str, Any] = field(default_factory=dict)
    toolkit_version: str = TOOLKIT_VERSION

    @classmethod
    def of(cls, cohort: Cohort, spec: ModelSpec, options: dict | None = None) -> FitKey:
        """Return the key of fitting ``spec`` to ``cohort``."""
        return cls(
            data_sha256=cohort.sha256,
            posterior_fingerprint=spec.posterior_fingerprint(),
            spec_fingerprint=spec.fingerprint(),
            options=dict(options or {}),
        )

    def same_posterior(self, other: FitKey) -> bool:
        """Return True when the two fits sample the same posterior (draws can be shared)."""
        return (
            self.data_sha256 == other.data_sha256
            and self.posterior_fingerprint == other.posterior_fingerprint
            and self.options == other.options
            and self.toolkit_version == other.toolkit_version
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FitKey:
        """Inverse of :meth:`to_dict` (a key of an older format gets empty fingerprints)."""
        return cls(
            data_sha256=str(data.get("data_sha256", "")),
            posterior_fingerprint=str(data.get("posterior_fingerprint", "")),
            spec_fingerprint=str(data.get("spec_fingerprint", "")),
            options=dict(data.get("options") or {}),
            toolkit_version=str(data.get("toolkit_version", "")),
        )


def command_line() -> list[str]:
    """Return the command as a user typed it: ``bayes-qct ...``, not the full path."""
    argv = list(sys.argv)
    if argv and argv[0].rsplit("/", 1)[-1] == "bayes-qct":
        argv[0] = "bayes-qct"
    return argv


def now_utc() -> str:
    """ISO timestamp (UTC, seconds) for provenance."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def data_provenance(cohort: Cohort, n_observed: int) -> dict[str, Any]:
    """Which data: file, hashes, mapping, label, synthetic flag, sizes and warnings."""
    provenance = getattr(cohort, "provenance", None)
    base = provenance() if callable(provenance) else {}
    return {
        "source": cohort.source,
        "sha256": cohort.sha256,
        "label": cohort.label,
        "synthetic": cohort.synthetic,
        "n_participants": cohort.n_participants,
        "n_rows": len(cohort.data),
        **base,
        "n_observed": int(n_observed),
        "warnings": list(cohort.warnings),
    }


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


@dataclass
class FitRecord:
    """Everything ``fit.json`` holds (data contract), typed.

    The flat keys ``divergences``, ``max_r_hat``, ``min_ess_bulk``, ``min_ess_tail``
    and ``min_bfmi`` repeat the diagnostics for scripts; ``posterior_from`` names the fit
    folder whose draws were reused (``None``: sampled for this fit).
    """

    key: FitKey
    outcome: str
    model: str
    design: str
    likelihood: str
    missingness: dict[str, Any]
    data: dict[str, Any]
    spec: dict[str, Any]
    spec_source: str
    spec_overridden: list[list[str]]
    seed: int
    sampler: dict[str, Any]
    versions: dict[str, Any]
    created_at: str = field(default_factory=now_utc)
    command: list[str] = field(default_factory=command_line)
    toolkit: dict[str, str] = field(
        default_factory=lambda: {"name": "bayes-qct", "version": TOOLKIT_VERSION}
    )
    ci: dict[str, Any] = field(default_factory=lambda: {"kind": CI_KIND, "prob": CI_PROB})
    wall_times: dict[str, float] = field(default_factory=dict)
    diagnostics: dict[str, Any] | None = None
    posterior_from: str | None = None
    prior_draws: int | None = None
    files: list[str] = field(default_factory=list)

    @classmethod
    def create(
        cls,
        cohort: Cohort,
        spec: ModelSpec,
        key: FitKey,
        *,
        versions: dict[str, Any],
    ) -> FitRecord:
        """Return the record of fitting ``spec`` to ``cohort`` (before times and diagnostics)."""
        from bayes_qct.modeling.build import model_data

        settings = spec.sampler
        mechanism = get_mechanism(spec.missingness)
        return cls(
            key=key,
            outcome=spec.outcome,
            model=spec.model_label(),
            design=spec.design,
            likelihood=spec.likelihood,
            missingness={
                "mechanism": spec.missingness,
                "kind": mechanism.kind,
                **spec.mechanism_params,
                "summary": spec.parameter_summary(),
            },
            data=data_provenance(cohort, int(model_data(cohort, spec).observed.sum())),
            spec=spec.to_dict(),
            spec_source=spec.source,
            spec_overridden=[list(item) for item in spec.overridden],
            seed=settings.seed,
            sampler={k: v for k, v in asdict(settings).items() if k != "seed"},
            versions=versions,
        )

    def model_spec(self) -> ModelSpec:
        """Return the spec that made this fit (equal to it: same fields, source and label)."""
        return spec_from_dict(
            self.spec, source=self.spec_source, overridden=tuple(map(tuple, self.spec_overridden))
        )

    def set_diagnostics(self, diagnostics: Diagnostics) -> None:
        """Store the diagnostics and their flat summary keys."""
        self.diagnostics = diagnostics.to_dict()

    @property
    def verdict_ok(self) -> bool | None:
        """Whether the convergence checks passed (``None``: not checked, e.g. prior only)."""
        return None if self.diagnostics is None else bool(self.diagnostics.get("ok"))

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON object of ``fit.json``."""
        out = asdict(self)
        out["key"] = self.key.to_dict()
        diag = self.diagnostics or {}
        for name in ("divergences", "max_r_hat", "min_ess_bulk", "min_ess_tail", "min_bfmi"):
            out[name] = _finite(diag.get(name))
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FitRecord:
        """Read a ``fit.json`` object (unknown keys are ignored)."""
        names = set(cls.__dataclass_fields__)
        values = {k: v for k, v in data.items() if k in names}
        values["key"] = FitKey.from_dict(data.get("key") or {})
        values.setdefault("spec_source", "<spec>")
        values.setdefault("spec_overridden", [])
        values.setdefault("design", data.get("spec", {}).get("design", "person-wave"))
        return cls(**values)

    @property
    def heading(self) -> str:
        """Which data, model and missing-data handling produced these numbers."""
        summary = self.missingness.get("summary", "-")
        mechanism = self.missingness.get("mechanism", "?")
        if summary and summary != "-":
            mechanism += f" ({summary})"
        return (
            f"{self.outcome} | data: {self.data.get('label', '?')} | "
            f"model: {self.model} ({self.likelihood}) | missingness: {mechanism}"
        )
