"""The rows of the checks table that come from fitted models: the logistic and the GEE.

Like :mod:`bayes_qct.frequentist.checks_rows`, each builder returns ``(rows, notes)``; a
model the data cannot support still gives its rows (the paper's among them), with no
numbers and the reason in ``note``.
"""

from __future__ import annotations

from bayes_qct.data.cohort import Cohort
from bayes_qct.frequentist.checks_rows import FOLLOW_UP_COVARIATES, ODDS_RATIO_IDS, check_row
from bayes_qct.frequentist.gee import gee_status_by_wave
from bayes_qct.frequentist.imputation import locf
from bayes_qct.frequentist.logistic import TERM_LABELS, paper_logistic

R2_ID = "offending.logistic.nagelkerke_r2"
NO_CONVERGENCE = "the model did not converge (separation?): no odds ratio"
TABLE1_NOTE = (
    "logistic rows: logistic_table1 = the paper's published model (Table 1's terms: "
    "composite score per SD, site 2, age per year, action stage vs earlier stages) refitted "
    "and compared with Table 1; logistic = the terms significant one at a time here (the "
    "paper's procedure replayed); logistic_stepwise = forward selection by likelihood ratio. "
    "Response: no offending at t2, as Table 1 prints it"
)


def _unfitted(handling: str, reason: str, *, own: bool) -> list[dict]:
    """Rows of a logistic analysis the data do not allow: the paper's, with the reason."""
    rows = []
    for name in ("logistic_table1", "logistic", "logistic_stepwise"):
        paper = own and name == "logistic_table1"
        terms = ODDS_RATIO_IDS if paper else {}
        for term, entry in terms.items():
            analysis = f"{name}_odds_ratio: {TERM_LABELS[term]}"
            rows.append(
                check_row(
                    "offending", analysis, "all", "t2", handling, {"note": reason}, paper=entry
                )
            )
        rows.append(
            check_row(
                "offending",
                f"{name}_nagelkerke_r2",
                "all",
                "t2",
                handling,
                {"note": reason},
                paper=R2_ID if paper else None,
            )
        )
    return rows


def logistic_rows(cohort: Cohort) -> tuple[list[dict], list[str]]:
    """Build the rows of the paper's Table 1 (complete case at t2), and again after LOCF.

    Three models per handling: Table 1's terms refitted (the rows compared with the
    paper's values), the terms significant one at a time (the paper's procedure replayed
    on these data) and forward stepwise selection.
    """
    rows, notes = [], []
    carried = locf(cohort, "offending", waves=("t2",)).data
    for covariate in FOLLOW_UP_COVARIATES:
        if covariate in carried:
            carried = locf(carried, covariate, waves=("t2",)).data
    notes.append(
        "logistic (locf): offending and the follow-up covariates "
        f"({', '.join(FOLLOW_UP_COVARIATES)}) carried from t1 into t2 where missing"
    )
    notes.append(TABLE1_NOTE)
    for handling, data in (("complete-case", None), ("locf", carried)):
        result = paper_logistic(cohort, data=data)
        notes.append(f"logistic ({handling}): {result.note}")
        paper = handling == "complete-case"
        if result.reason:
            rows += _unfitted(handling, result.reason, own=paper)
            continue
        models = (
            ("logistic_table1", result.table1),
            ("logistic", result.combined),
            ("logistic_stepwise", result.stepwise),
        )
        reasons = {"logistic": result.combined_reason, "logistic_table1": result.table1_reason}
        for name, fit in models:
            own = paper and name == "logistic_table1"
            if fit is None:
                why = reasons.get(name, "")
                notes.append(f"{name} ({handling}): {why or 'no term entered the model'}")
                if why:
                    rows.append(
                        check_row(
                            "offending",
                            f"{name}_nagelkerke_r2",
                            "all",
                            "t2",
                            handling,
                            {"note": why},
                            paper=R2_ID if own else None,
                        )
                    )
                continue
            if not fit.converged:
                notes.append(f"{name} ({handling}): {NO_CONVERGENCE}")
            for term in fit.table.itertuples(index=False):
                values = {
                    "n": fit.n,
                    "statistic": term.odds_ratio,
                    "z": term.z,
                    "p": term.p,
                    "lower": term.ci_lower,
                    "upper": term.ci_upper,
                }
                if not fit.converged:
                    values = {"n": fit.n, "note": NO_CONVERGENCE}
                rows.append(
                    check_row(
                        "offending",
                        f"{name}_odds_ratio: {term.label}",
                        "all",
                        "t2",
                        handling,
                        values,
                        paper=ODDS_RATIO_IDS.get(term.term) if own else None,
                    )
                )
            rows.append(
                check_row(
                    "offending",
                    f"{name}_nagelkerke_r2",
                    "all",
                    "t2",
                    handling,
                    {"n": fit.n, "statistic": fit.nagelkerke_r2},
                    paper=R2_ID if own else None,
                )
            )
    return rows, notes


def gee_rows(cohort: Cohort, outcome: str) -> tuple[list[dict], list[str]]:
    """Build the GEE bridge rows: group x wave days per 30 and change from t1 (extra rows)."""
    result = gee_status_by_wave(cohort, outcome)
    rows = [
        check_row(
            outcome,
            "gee_mean_days_per_30",
            m.legal_status,
            m.wave,
            "complete-case",
            {
                "n": m.n,
                "statistic": m.mean_days,
                "lower": m.lower,
                "upper": m.upper,
                "note": m.note,
            },
        )
        for m in result.means.itertuples(index=False)
    ]
    rows += [
        check_row(
            outcome,
            "gee_change_days_per_30",
            c.legal_status,
            c.contrast,
            "complete-case",
            {
                "n": c.n,
                "statistic": c.difference_days,
                "z": c.z,
                "p": c.p,
                "lower": c.lower,
                "upper": c.upper,
                "note": c.note,
            },
        )
        for c in result.changes.itertuples(index=False)
    ]
    notes = [result.note + " (handling: every observed interview, nothing imputed)"]
    return rows, notes
