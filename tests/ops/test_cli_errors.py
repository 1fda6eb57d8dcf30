"""Operator mistakes at the shell end in a message saying what to do, never a traceback."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import TEST_DATABASE_URL, make_app

from merchant import create_app

UPGRADE = "run `flask --app merchant upgrade`"
MISSING = "MERCHANT_DIGIFLAZZ_USERNAME, MERCHANT_DIGIFLAZZ_API_KEY"


def schemaless_app(tmp_path, **overrides):
    """An app on a new, empty database: nobody has run the migrations yet."""
    return create_app({"TESTING": True, "SECRET_KEY": "k", "SANDBOX_WEBHOOK_SECRET": "s",
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.db'}",
                       **overrides}, instance_path=str(tmp_path))


@pytest.mark.parametrize("args", [
    ["import-prices", "digiflazz", "--markup", "8%"],
    ["deliver", "M7K3Q9D2F", "--proof", "SN 1"],
    ["setup-link"],
    ["worker"],                     # not a traceback every second, forever
])
def test_a_database_without_tables_says_to_run_the_migrations(tmp_path, args):
    if TEST_DATABASE_URL:
        pytest.skip("needs a database of its own")
    app = schemaless_app(tmp_path, DIGIFLAZZ_USERNAME="u", DIGIFLAZZ_API_KEY="k")
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1
    assert f"The database has no tables yet: {UPGRADE}." in result.output
    assert isinstance(result.exception, SystemExit)                 # no OperationalError


def test_import_prices_without_supplier_settings_names_the_variables(tmp_path):
    app = make_app(tmp_path)
    result = app.test_cli_runner().invoke(args=["import-prices", "digiflazz", "--markup", "8%"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert f"The digiflazz supplier is not configured: set {MISSING}." in result.output
    unknown = app.test_cli_runner().invoke(args=["import-prices", "nosuch", "--markup", "8%"])
    assert unknown.exit_code == 1 and "'nosuch' has no price list to import; use one of " \
        "digiflazz, vipreseller, tokovoucher." in unknown.output


@pytest.mark.process
def test_the_real_command_line_before_and_after_the_migrations(tmp_path):
    """The issue's case, as the operator types it: `flask --app merchant import-prices ...`."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("MERCHANT_")}
    env.update(MERCHANT_SECRET_KEY="k", MERCHANT_SANDBOX_WEBHOOK_SECRET="s",
               MERCHANT_INSTANCE_PATH=str(tmp_path), MERCHANT_DATABASE_URL="")

    def flask(*args):
        return subprocess.run([sys.executable, "-m", "flask", "--app", "merchant", *args],
                              env=env, capture_output=True, text=True, timeout=120)

    before = flask("import-prices", "digiflazz", "--markup", "8%")
    assert before.returncode == 1
    assert f"Error: The database has no tables yet: {UPGRADE}." in before.stderr
    assert "Traceback" not in before.stderr + before.stdout

    assert flask("upgrade").returncode == 0
    after = flask("import-prices", "digiflazz", "--markup", "8%")
    assert after.returncode == 1
    assert f"The digiflazz supplier is not configured: set {MISSING}." in after.stderr
    assert "Traceback" not in after.stderr + after.stdout


@pytest.mark.process
def test_missing_startup_settings_are_named_without_a_traceback(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("MERCHANT_")}
    env.update(MERCHANT_INSTANCE_PATH=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "merchant", "worker"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: merchant cannot start: set MERCHANT_SECRET_KEY, "
                                    "MERCHANT_SANDBOX_WEBHOOK_SECRET")
    assert "Traceback" not in result.stderr
