"""Model specs: loading the bundled TOML, overrides, prior merging and refusals."""

from __future__ import annotations

import pytest

from bayes_qct.errors import SpecError
from bayes_qct.modeling.spec import ModelSpec, load_spec, spec_from_dict


def test_bundled_specs_load() -> None:
    for outcome in ("offending", "drug-use"):
        spec = load_spec(outcome)
        assert isinstance(spec, ModelSpec)
        assert spec.outcome == outcome
        assert spec.likelihood == "zero-inflated-binomial"
        assert spec.missingness == "mar"
        assert spec.model_label() == "default"
        assert spec.sampler.chains == 4
        # resolved priors: base + family, no mechanism extras, no covariate prior
        assert {"b0", "sigma_site", "z_wave", "z_qct"} <= set(spec.priors)
        assert "phi" not in spec.priors and "beta_cov" not in spec.priors


def test_overrides_name_the_folder_and_change_fingerprint() -> None:
    base = load_spec("offending")
    sel = load_spec("offending", overrides={"missingness": "selection", "draws": 200})
    assert sel.missingness == "selection"
    assert sel.sampler.draws == 200
    assert sel.model_label() == "default-selection"
    assert {"psi_wave", "psi_qct", "phi"} <= set(sel.priors)
    assert sel.fingerprint() != base.fingerprint()
    bb = load_spec("offending", overrides={"likelihood": "beta-binomial"})
    assert bb.model_label() == "default-beta-binomial"
    assert "kappa" in bb.priors and "z_wave" not in bb.priors
    fixed = load_spec("offending", overrides={"missingness": "selection", "phi": -1.0})
    assert fixed.mechanism_params == {"phi": -1.0} and "phi" not in fixed.priors
    assert fixed.model_label() == "default-selection-phi-1"


def test_sampler_only_override_keeps_label_and_fingerprint_is_stable() -> None:
    a = load_spec("offending", overrides={"seed": 3})
    b = load_spec("offending", overrides={"seed": 3})
    assert a.model_label() == "default"
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != load_spec("offending").fingerprint()


def test_prior_override_merges_parameters_or_replaces_dist() -> None:
    spec = load_spec(
        "offending",
        overrides={
            "priors": {
                "b0": {"sigma": 2.5},
                "sigma_site": {"dist": "exponential", "lam": 3.0},
            }
        },
    )
    assert spec.priors["b0"] == {"dist": "normal", "mu": -1.0, "sigma": 2.5}
    assert spec.priors["sigma_site"] == {"dist": "exponential", "lam": 3.0}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"outcome": "crime"}, "outcome"),
        ({"outcome": "offending", "likelihood": "poisson"}, "likelihood"),
        ({"outcome": "offending", "colour": 1}, "colour"),
        ({"outcome": "offending", "missingness": {"mechanism": "magic"}}, "missingness.mechanism"),
        ({"outcome": "offending", "missingness": {"phi": "big"}}, "missingness.phi"),
        ({"outcome": "offending", "sampler": {"draws": -5}}, "sampler.draws"),
        ({"outcome": "offending", "sampler": {"draws": 1.5}}, "sampler.draws"),
        ({"outcome": "offending", "sampler": {"sampler": "stan"}}, "sampler.sampler"),
        ({"outcome": "offending", "sampler": {"target_accept": 1.2}}, "sampler.target_accept"),
        ({"outcome": "offending", "sampler": {"warmup": 10}}, "sampler.warmup"),
        ({"outcome": "offending", "covariates": ["shoe_size"]}, "covariates"),
        ({"outcome": "offending", "priors": {"b9": {"dist": "normal"}}}, "priors.b9"),
        ({"outcome": "offending", "priors": {"b0": {"dist": "cauchy"}}}, "priors.b0.dist"),
        ({"outcome": "offending", "priors": {"b0": {"sigma": -1}}}, "priors.b0.sigma"),
        ({"outcome": "offending", "priors": {"b0": {"scale": 1}}}, "priors.b0.scale"),
        (
            {"outcome": "offending", "priors": {"sigma_site": {"dist": "gamma", "alpha": 2}}},
            "priors.sigma_site",
        ),
    ],
)
def test_bad_spec_names_the_field(raw: dict, field: str) -> None:
    with pytest.raises(SpecError) as info:
        spec_from_dict(raw, source="bad.toml")
    message = str(info.value)
    assert field in message
    assert "bad.toml" in message


def test_all_problems_reported_at_once() -> None:
    with pytest.raises(SpecError) as info:
        spec_from_dict({"outcome": "x", "likelihood": "y", "sampler": {"chains": 0}})
    assert len(info.value.problems) == 3


def test_bad_toml_file_and_unknown_name(tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("outcome = [unclosed\n")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(bad)
    with pytest.raises(SpecError, match="no spec of that name"):
        load_spec("nonsense")
    with pytest.raises(SpecError, match="no such spec file"):
        load_spec(tmp_path / "absent.toml")


def test_spec_file_in_cwd_models_wins(tmp_path, monkeypatch) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "offending.toml").write_text(
        'name = "local"\noutcome = "offending"\nlikelihood = "binomial"\n'
    )
    monkeypatch.chdir(tmp_path)
    spec = load_spec("offending")
    assert spec.name == "local" and spec.likelihood == "binomial"


def test_to_dict_round_trips_and_formula_mentions_choices() -> None:
    spec = load_spec("drug-use", overrides={"missingness": "selection", "covariates": ["age"]})
    data = spec.to_dict()
    assert data["covariates"] == ["age"]
    assert "beta_cov" in data["priors"]
    assert "drug_use_days" in spec.formula() and "phi estimated" in spec.formula()
    assert spec.model_label() == "default-selection-covariatesage"


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"missingness": "selection"},
        {"missingness": "selection", "phi": -1.5, "draws": 300},
        {"missingness": "pattern-mixture", "delta_qct": -1.0},
        {"missingness": "shared-parameter", "lambda": 0.5, "likelihood": "beta-binomial"},
        {"covariates": ["age"], "priors": {"b0": {"sigma": 2.0}}},
        {"missingness": "locf"},
    ],
)
def test_to_dict_reads_back_into_an_equal_spec(overrides) -> None:
    spec = load_spec("offending", overrides=overrides)
    again = spec_from_dict(spec.to_dict(), source=spec.source, overridden=spec.overridden)
    assert again == spec
    assert again.fingerprint() == spec.fingerprint()


def test_mechanism_parameters_are_declared_and_resolved() -> None:
    pm = load_spec("offending", overrides={"missingness": "pattern-mixture", "delta": -1.0})
    assert pm.mechanism_params == {"delta": -1.0, "delta_qct": -1.0, "delta_voluntary": -1.0}
    one = load_spec("offending", overrides={"missingness": "pattern-mixture", "delta_qct": -2.0})
    assert one.mechanism_params == {"delta": 0.0, "delta_qct": -2.0, "delta_voluntary": 0.0}
    assert "QCT -2" in one.formula() and one.model_label().endswith("delta_qct-2")
    assert load_spec("offending").mechanism_params == {}
    sel = load_spec("offending", overrides={"missingness": "selection"})
    assert sel.mechanism_params == {"phi": None} and "phi estimated" in sel.formula()


@pytest.mark.parametrize(
    ("overrides", "option", "owner"),
    [
        ({"phi": -1.0}, "--phi", "selection"),
        ({"missingness": "selection", "lambda": 1.0}, "--lambda", "shared-parameter"),
        ({"missingness": "selection", "delta": 1.0}, "--delta", "pattern-mixture"),
    ],
)
def test_an_option_the_mechanism_lacks_is_refused_naming_its_owner(
    overrides, option, owner
) -> None:
    with pytest.raises(SpecError) as info:
        load_spec("offending", overrides=overrides)
    message = str(info.value)
    assert option in message and owner in message and "command line" in message
    assert "offending.toml" not in message  # the flag, not the file, is to blame


def test_a_bad_missingness_flag_is_blamed_on_the_flag() -> None:
    with pytest.raises(SpecError) as info:
        load_spec("offending", overrides={"missingness": "magic"})
    message = str(info.value)
    assert "--missingness" in message and "command line" in message
    assert "offending.toml" not in message


def test_a_file_parameter_of_another_mechanism_is_refused(tmp_path) -> None:
    path = tmp_path / "spec.toml"
    path.write_text('outcome = "offending"\n[missingness]\nmechanism = "mar"\nphi = -1.0\n')
    with pytest.raises(SpecError, match="parameter of selection"):
        load_spec(path)
    # choosing the mechanism on the command line drops the file's parameters of another
    spec = load_spec(path, overrides={"missingness": "pattern-mixture"})
    assert spec.mechanism_params["delta"] == 0.0


def test_posterior_fingerprint_separates_post_processing() -> None:
    mar = load_spec("offending")
    pm = load_spec("offending", overrides={"missingness": "pattern-mixture", "delta": -1.0})
    assert pm.posterior_fingerprint() == mar.posterior_fingerprint()
    assert pm.fingerprint() != mar.fingerprint()
    sel = load_spec("offending", overrides={"missingness": "selection", "phi": -1.0})
    sel2 = load_spec("offending", overrides={"missingness": "selection", "phi": -2.0})
    assert sel.posterior_fingerprint() != sel2.posterior_fingerprint()
    assert sel.posterior_fingerprint() != mar.posterior_fingerprint()
    seeded = load_spec("offending", overrides={"seed": 5})
    assert seeded.posterior_fingerprint() != mar.posterior_fingerprint()
