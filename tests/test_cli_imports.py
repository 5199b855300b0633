"""The command line imports only what the command it runs uses."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bayes_qct.cli import COMMANDS, command_app, command_help


def imported_after(argv: list[str], *, check_exit: bool = True) -> set[str]:
    """Run the CLI on ``argv`` in a fresh interpreter; return the modules it imported."""
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from bayes_qct.cli import app\n"
        f"r = CliRunner().invoke(app, {argv!r})\n"
        + ("assert r.exit_code == 0, r.output\n" if check_exit else "")
        + "print('\\n'.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return set(done.stdout.split())


def test_root_help_imports_no_command_module_and_no_numerics():
    modules = imported_after(["--help"])
    assert not {f"bayes_qct.cli.{m}" for m in COMMANDS.values()} & modules
    assert not {"numpy", "pandas", "xarray", "scipy", "pymc", "arviz"} & modules


def test_data_validate_imports_no_sampler_and_no_audit(long_table, tmp_path):
    path = tmp_path / "cohort.csv"
    long_table.to_csv(path, index=False)
    modules = imported_after(["data", "validate", str(path)])
    assert "bayes_qct.cli.data" in modules
    unwanted = {"pymc", "pytensor", "nutpie", "numba", "jax", "arviz", "matplotlib"}
    unwanted |= {"bayes_qct.frequentist.audit", "bayes_qct.cli.fit", "bayes_qct.cli.check"}
    assert not unwanted & modules


def test_fit_help_does_not_import_the_audit_or_the_checks():
    modules = imported_after(["fit", "offending", "--help"])
    assert "bayes_qct.cli.fit" in modules
    assert not {"bayes_qct.frequentist.audit", "bayes_qct.cli.check", "pymc", "nutpie"} & modules


@pytest.mark.parametrize("name", list(COMMANDS))
def test_root_help_text_is_the_command_modules_own(name):
    assert command_help(name) == command_app(name).info.help
