"""Cohorts simulated from the model itself (known truth), for the modeling tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from bayes_qct.constants import WAVES
from bayes_qct.data.io import cohort_from_frame

TRUTH = {
    "b0": -0.6,
    "b_qct": 0.4,
    "g_wave": np.array([0.0, -1.0, -1.2, -1.3]),
    "d_qct_wave": np.array([0.0, -0.5, -0.4, -0.6]),
    "sigma_site": 0.3,
    "sigma_participant": 1.0,
    "z_wave": np.array([-1.5, -0.5, -0.3, -0.2]),
    "z_qct": -0.3,
    "psi_wave": np.array([1.0, 0.8, 0.7]),
    "psi_qct": 0.3,
}


def simulate_cohort(
    n_people: int = 157,
    *,
    seed: int = 1,
    n_sites: int = 10,
    phi: float = 0.0,
    truth: dict | None = None,
    intake_missing: int = 0,
):
    """A ZIB cohort with selection dropout (phi = 0: MAR) at t2..t4; returns (cohort, truth)."""
    t = {**TRUTH, **(truth or {})}
    rng = np.random.default_rng(seed)
    qct = (np.arange(n_people) < round(n_people * 89 / 157)).astype(float)
    site = rng.integers(0, n_sites, n_people)
    u = rng.normal(0, t["sigma_site"], n_sites)
    v = rng.normal(0, t["sigma_participant"], n_people)
    # a baseline age effect (per 6 years) when the truth names one; its own generator
    # leaves every other draw (and so every existing test cohort) as it was
    beta_age = t.get("beta_age")
    age = np.random.default_rng([seed, 7]).normal(30, 6, n_people)
    rows = []
    for i in range(n_people):
        for w, wave in enumerate(WAVES):
            eta = t["b0"] + t["b_qct"] * qct[i] + t["g_wave"][w] + t["d_qct_wave"][w] * qct[i]
            eta += u[site[i]] + v[i]
            if beta_age is not None:
                eta += beta_age * (age[i] - 30) / 6
            pi = expit(t["z_wave"][w] + t["z_qct"] * qct[i])
            n = 30 if rng.random() > 0.1 else int(rng.integers(10, 30))
            y = 0 if rng.random() < pi else int(rng.binomial(n, expit(eta)))
            seen = True
            if w > 0:
                logit_r = t["psi_wave"][w - 1] + t["psi_qct"] * qct[i] + phi * y / n
                seen = rng.random() < expit(logit_r)
            elif i < intake_missing:
                seen = False
            rows.append(
                {
                    "participant_id": f"p{i:03d}",
                    "site": f"s{site[i]:02d}",
                    "legal_status": "QCT" if qct[i] else "voluntary",
                    "wave": wave,
                    "offending_days": y if seen else None,
                    "drug_use_days": y if seen else None,
                    "days_at_liberty": n,
                    "age": float(rng.normal(30, 6)),
                    "male": int(rng.random() < 0.8),
                }
            )
    df = pd.DataFrame(rows)
    df["age"] = df.groupby("participant_id")["age"].transform("first")
    df["male"] = df.groupby("participant_id")["male"].transform("first")
    if beta_age is not None:
        df["age"] = np.repeat(age, len(WAVES))
    cohort = cohort_from_frame(df, source=f"simulated(seed={seed}, phi={phi})")
    return cohort, t


def fake_posterior(data, *, chains: int, draws: int, extra: dict | None = None, seed: int = 0):
    """Posterior-shaped draws (no MCMC) for every variable predict() reads.

    ``extra`` adds scalar mechanism parameters by name with their location (``phi``,
    ``lambda``, ...); t1 entries of the wave effects are 0 as in the model.
    """
    import xarray as xr

    rng = np.random.default_rng(seed)

    def var(*dims: str, scale: float = 0.5, loc: float = 0.0):
        shape = (chains, draws, *(len(data.coords[d]) for d in dims))
        return (("chain", "draw", *dims), loc + scale * rng.normal(size=shape))

    g, d = var("wave"), var("wave")
    g[1][..., 0] = d[1][..., 0] = 0.0
    post = {
        "b0": var(loc=-1.0),
        "b_qct": var(),
        "g_wave": g,
        "d_qct_wave": d,
        "u_site": var("site", scale=0.3),
        "v_participant": var("participant", scale=1.0),
        "z_wave": var("wave", loc=-1.0),
        "z_qct": var(),
        "sigma_site": var(loc=1.0, scale=0.1),
        "psi_wave": var("followup", loc=0.5),
        "psi_qct": var(),
        **{name: var(loc=loc) for name, loc in (extra or {}).items()},
    }
    coords = {k: data.coords[k] for k in ("wave", "site", "participant", "followup")}
    return xr.Dataset(post, coords={"chain": range(chains), "draw": range(draws), **coords})
