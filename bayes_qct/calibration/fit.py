"""How the reconstruction's parameters were found: a fit on expected values, then a search.

1. :func:`fit_parameters` fits the generator's outcome parameters (and the dropout's
   baseline term) by least squares on *expected* values: for fixed latent draws of
   ``n_populations`` reconstructed populations, each target's expectation given the
   parameters (group x wave means of the ZIB, P(any day), LOCF means, the t1 t statistic,
   and the expected refit of Table 1's model at n = 105: its four log odds ratios,
   Nagelkerke R2 and the z of legal status added to it, see
   :mod:`bayes_qct.calibration.table1`), with interview selection
   approximated by its Gumbel top-k inclusion probabilities. Residuals are scaled by the
   targets' tolerances; the targets' values are those of
   :data:`bayes_qct.calibration.targets.TARGETS` (so of the paper's registry), see
   :data:`FIT_NAMES`.
2. The fitted values (rounded to two decimals) are frozen in
   :data:`reconstruct.CALIBRATED_PARAMS` and ``CALIBRATED_DROPOUT``.
3. :func:`bayes_qct.calibration.search.search_draws` draws each random stream with seeds
   ``(RECONSTRUCTION_SEED, stream, k)``, k = 0, 1, ... and accepts the first k whose
   targets pass, depth-first with back-tracking (frozen as ``ACCEPTED_DRAWS``): an
   acceptance step for the sampling noise that no parameter fit removes.

Neither step runs when the bundled file is regenerated; both are here so the numbers in
``reconstruct.py`` can be re-derived (``python -m bayes_qct.calibration.fit``).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
from scipy.optimize import brentq, least_squares

from bayes_qct.calibration import table1 as t1
from bayes_qct.data import generator as gen
from bayes_qct.data import reconstruct as rc

NAMES = (
    "off.b0", "off.b_qct", "off.g2", "off.g3", "off.g4", "off.d2", "off.d3", "off.d4",
    "off.z1", "off.z2", "off.z3", "off.z4", "off.z_qct", "off.s_person", "off.site2_shift",
    "off.z_site2", "off.z_score", "off.z_age", "off.z_action", "off.z_qct_t2",
    "drug.b0", "drug.b_qct", "drug.g", "drug.d", "phi_baseline_qct",
)  # fmt: skip


def unpack(
    theta: np.ndarray, base: gen.GeneratorParams
) -> tuple[gen.GeneratorParams, rc.DropoutParams]:
    """Parameter vector -> generator and dropout parameters."""
    t = dict(zip(NAMES, map(float, theta), strict=True))
    off = replace(
        base.offending,
        b0=t["off.b0"],
        b_qct=t["off.b_qct"],
        g=(0.0, t["off.g2"], t["off.g3"], t["off.g4"]),
        d=(0.0, t["off.d2"], t["off.d3"], t["off.d4"]),
        z=(t["off.z1"], t["off.z2"], t["off.z3"], t["off.z4"]),
        z_qct=t["off.z_qct"],
        s_person=t["off.s_person"],
        site2_shift=t["off.site2_shift"],
        z_site2=t["off.z_site2"],
        z_score=t["off.z_score"],
        z_age=t["off.z_age"],
        z_action=t["off.z_action"],
        z_qct_t2=t["off.z_qct_t2"],
    )
    drug = replace(
        base.drug_use,
        b0=t["drug.b0"],
        b_qct=t["drug.b_qct"],
        g=(0.0, *(t["drug.g"],) * 3),
        d=(0.0, *(t["drug.d"],) * 3),
    )
    dropout = replace(rc.CALIBRATED_DROPOUT, phi_baseline_qct=t["phi_baseline_qct"])
    return replace(base, offending=off, drug_use=drug), dropout


def pack(params: gen.GeneratorParams, dropout: rc.DropoutParams) -> np.ndarray:
    """Map generator and dropout parameters to a vector (inverse of :func:`unpack`)."""
    o, d = params.offending, params.drug_use
    return np.array(
        [o.b0, o.b_qct, *o.g[1:], *o.d[1:], *o.z, o.z_qct, o.s_person, o.site2_shift, o.z_site2,
         o.z_score, o.z_age, o.z_action, o.z_qct_t2,
         d.b0, d.b_qct, d.g[1], d.d[1], dropout.phi_baseline_qct]
    )  # fmt: skip


def _inclusion(x: np.ndarray, k: int) -> np.ndarray:
    """Approximate top-k inclusion probabilities of keys x + Gumbel noise."""
    c = brentq(lambda c: (1 - np.exp(-np.exp(x - c))).sum() - k, -50, 50)
    return 1 - np.exp(-np.exp(x - c))


def _populations(n: int) -> list[tuple[gen.Population, np.ndarray, np.ndarray]]:
    out = []
    for r in range(n):
        rng = np.random.default_rng([rc.RECONSTRUCTION_SEED, 10_000 + r])
        pop = rc.build_population(rng, rc.CALIBRATED_PARAMS)
        liberty = gen.draw_liberty(rng, pop, rc.CALIBRATED_PARAMS)
        out.append((pop, liberty, rng.normal(0, rc.CALIBRATED_DROPOUT.frailty_sd, pop.n)))
    return out


def expected_statistics(theta: np.ndarray, pops: list, base: gen.GeneratorParams) -> dict:
    """Compute each fitted statistic's expected value, averaged over latent populations."""
    params, dropout = unpack(theta, base)
    acc: dict[str, list[float]] = {}

    def put(key: str, value: float) -> None:
        acc.setdefault(key, []).append(float(value))

    ratio = [
        params.offending.s_person / base.offending.s_person,
        params.drug_use.s_person / base.drug_use.s_person,
    ]
    for pop0, n, frailty in pops:
        pop = replace(pop0, v=pop0.v * ratio)
        ey, p_any, ey2 = {}, {}, {}
        for o in gen.OUTCOME_KEYS:
            mu, pi = gen.probabilities(pop, params, o)
            ey[o] = n * (1 - pi) * mu
            ey2[o] = (1 - pi) * (n * mu * (1 - mu) + (n * mu) ** 2)
            p_any[o] = (1 - pi) * (1 - (1 - mu) ** n)
        keys = rc.interview_keys(pop, {o: ey[o] / n for o in ey}, dropout) + frailty[:, None]
        w = np.ones((pop.n, 4))
        for g, status in enumerate(("QCT", "voluntary")):
            m = pop.qct == (1 - g)
            for t in range(1, 4):
                w[m, t] = _inclusion(keys[m, t - 1], rc.INTERVIEWS[status][t])
        qct = pop.qct == 1
        for label, m in (("QCT", qct), ("voluntary", ~qct)):
            off, drug = ey["offending"][m], ey["drug-use"][m]
            put(f"off t1 {label}", off[:, 0].mean())
            for t in range(1, 4):
                put(f"off t{t + 1} {label}", (w[m, t] * off[:, t]).sum() / w[m, t].sum())
            put(f"off locf {label}", (w[m, 1] * off[:, 1] + (1 - w[m, 1]) * off[:, 0]).mean())
            put(f"drug t1 {label}", drug[:, 0].mean())
            put(f"drug locf {label}", (w[m, 1] * drug[:, 1] + (1 - w[m, 1]) * drug[:, 0]).mean())
            pa = p_any["offending"][m][:, 1:]
            seen = 1 - np.prod(1 - w[m, 1:], axis=1)
            put(
                f"any follow-up {label}",
                100 * (1 - np.prod(1 - w[m, 1:] * pa, axis=1)).sum() / seen.sum(),
            )
        pa = p_any["offending"]
        put("any t1", 100 * pa[:, 0].mean())
        put("any t4", 100 * (w[:, 3] * pa[:, 3]).sum() / w[:, 3].sum())
        put("none t2", 105 * (1 - (w[:, 1] * pa[:, 1]).sum() / w[:, 1].sum()))
        var = [
            ey2["offending"][m, 0].mean() - ey["offending"][m, 0].mean() ** 2 for m in (qct, ~qct)
        ]
        sp = np.sqrt((88 * var[0] + 61 * var[1]) / 149)
        diff = ey["offending"][qct, 0].mean() - ey["offending"][~qct, 0].mean()
        put("t offending t1", diff / (sp * np.sqrt(1 / 89 + 1 / 62)))
        frame = t1.frame_from_arrays(
            score=pop.score, age=pop.age, stage=pop.stage, site2=pop.site == 1,
            qct=pop.qct, no_offending_t2=np.zeros(pop.n),
        )  # fmt: skip
        for key, value in t1.expected_table1(frame, 1 - pa[:, 1], w[:, 1]).items():
            put(f"table1 {key}", value)
    return {k: float(np.mean(v)) for k, v in acc.items()}


FIT_NAMES: dict[str, str] = {
    "off t1 QCT": "offending t1 mean QCT (n=89)",
    "off t1 voluntary": "offending t1 mean voluntary (n=62)",
    **{
        f"off {w} {g}": f"offending {w} mean {g} (Figure 1)"
        for w in ("t2", "t3", "t4")
        for g in ("QCT", "voluntary")
    },
    "off locf QCT": "offending LOCF t2 mean QCT (n=89)",
    "off locf voluntary": "offending LOCF t2 mean voluntary (n=64)",
    "drug t1 QCT": "drug use t1 mean QCT (n=89)",
    "drug t1 voluntary": "drug use t1 mean voluntary (n=68)",
    "drug locf QCT": "drug use LOCF t2 mean QCT (n=89)",
    "drug locf voluntary": "drug use LOCF t2 mean voluntary (n=68)",
    "any follow-up QCT": "offending at any follow-up % QCT (62 of 75)",
    "any follow-up voluntary": "offending at any follow-up % voluntary (30 of 53)",
    "any t1": "any offending t1 % (n=151)",
    "any t4": "any offending t4 % (n=93)",
    "none t2": "no offending t2 (72 of 105)",
    "t offending t1": "offending t1 t-test QCT vs voluntary",
}
"""Fitted statistic -> the calibration target it is fitted to."""


def _fit_targets() -> dict[str, tuple[float, float]]:
    from bayes_qct.calibration.targets import TARGETS

    by_name = {t.name: t for t in TARGETS}
    out = {
        k: (by_name[n].value, (by_name[n].upper - by_name[n].lower) / 2)
        for k, n in FIT_NAMES.items()
    }
    for term, name in t1.NAMES.items():  # log odds ratios; tolerance +-1 SE of the log
        t = by_name[name]
        out[f"table1 {term}"] = (float(np.log(t.value)), float(np.log(t.upper / t.lower)) / 2)
    r2, qct = by_name[t1.R2_NAME], by_name[t1.QCT_NAME]
    out["table1 r2"] = (r2.value, (r2.upper - r2.lower) / 2)
    out["table1 qct_z"] = (qct.value, 1.0)  # a z: its sampling SD is 1
    return out


FIT_TARGETS: dict[str, tuple[float, float]] = _fit_targets()
"""Statistic -> (published value, scale of its residual)."""


PRIOR_PARAMS = gen.GeneratorParams(
    offending=gen.OutcomeParams(
        b0=0.0, b_qct=1.5, g=(0.0, -1.5, -1.5, -1.5), d=(0.0, -0.5, -0.5, -0.5),
        z=(-1.0, 0.0, 0.0, 0.0), z_qct=0.0, b_score=0.2, s_person=1.5, site2_shift=1.0,
    ),
    drug_use=gen.OutcomeParams(
        b0=2.0, b_qct=1.5, g=(0.0, -1.0, -1.0, -1.0), d=(0.0, -0.5, -0.5, -0.5),
        z=(-4.0, -2.5, -2.5, -2.5), z_qct=0.0, b_score=0.4, s_person=1.5, site2_shift=0.8,
    ),
)  # fmt: skip
"""Where the fit is pulled towards (weakly, sd :data:`PRIOR_SD` on the logit scale) so that
targets the data barely inform do not push parameters to implausible values."""

PRIOR_SD = 2.5
BOUNDS = (
    ("off.s_person", 1.2, 2.0),
    ("off.site2_shift", 0.0, 2.5),
    ("off.z_site2", -3.0, 0.0),
    *((f"off.z{t}", -4.0, 4.5) for t in range(1, 5)),
)


def fit_parameters(n_populations: int = 12) -> tuple[gen.GeneratorParams, rc.DropoutParams, dict]:
    """Least-squares fit of the generator to :data:`FIT_TARGETS` on expected values."""
    pops = _populations(n_populations)
    base = rc.CALIBRATED_PARAMS
    keys = list(FIT_TARGETS)
    target = np.array([FIT_TARGETS[k][0] for k in keys])
    scale = np.array([FIT_TARGETS[k][1] for k in keys])

    prior = pack(PRIOR_PARAMS, rc.DropoutParams())

    def resid(theta: np.ndarray) -> np.ndarray:
        s = expected_statistics(theta, pops, base)
        fit = (np.array([s[k] for k in keys]) - target) / scale
        return np.concatenate([fit, (theta - prior) / PRIOR_SD])

    lower, upper = np.full(len(NAMES), -6.0), np.full(len(NAMES), 6.0)
    for name, lo, hi in BOUNDS:
        lower[NAMES.index(name)], upper[NAMES.index(name)] = lo, hi
    x0 = np.clip(pack(base, rc.CALIBRATED_DROPOUT), lower + 1e-6, upper - 1e-6)
    sol = least_squares(resid, x0, bounds=(lower, upper), diff_step=1e-3)
    params, dropout = unpack(np.round(sol.x, 2), base)
    achieved = expected_statistics(np.round(sol.x, 2), pops, base)
    return params, dropout, achieved


def main(argv: list[str] | None = None) -> None:
    """Re-derive the calibrated parameters.

    ``python -m bayes_qct.calibration.search`` then searches the accepted draws.
    """
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.parse_args(argv)
    params, dropout, achieved = fit_parameters()
    print(params, dropout, sep="\n")
    for k, v in achieved.items():
        print(f"{k:28s} target {FIT_TARGETS[k][0]:8.2f} expected {v:8.2f}")


if __name__ == "__main__":
    main()
