"""The public names: each resolves; importing them reads no environment and opens no database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import plivo_otp_app
from plivo_otp_app import Routes

ROOT = Path(__file__).resolve().parents[2]

IMPORT = """
import sys
import plivo_otp_app
assert [m for m in sys.modules if m.startswith("plivo_otp_app.")] == [], "the bare import loads nothing"
from plivo_otp_app import {names}
import plivo_otp_app.config as config
assert config.get_settings.cache_info().currsize == 0, "no settings were loaded"
print("ok")
"""
#: What a host app imports before it calls `mount`.
BEFORE_MOUNT = "Routes, Settings, OtpPolicy, mount, migrations, get_verification_service, get_services"
#: The names whose states are built on import.
STATE_BOUND = "require_login, verification_flow, signup_flow, login_flow, account_view"


@pytest.mark.parametrize(
    "names",
    [
        BEFORE_MOUNT,
        STATE_BOUND,
    ],
)
def test_importing_the_public_names_reads_no_environment_and_opens_no_database(tmp_path, names):
    # Settings this bad would raise ConfigError if anything read them; the database could not even be created.
    env = {
        **os.environ,
        "OTP_PROVIDER": "bogus",
        "REFLEX_DB_URL": f"sqlite:///{tmp_path}/no/such/dir/app.db",
        "PYTHONPATH": str(ROOT),
    }
    (tmp_path / ".env").write_text("OTP_PROVIDER=bogus\n")
    done = subprocess.run(
        [sys.executable, "-c", IMPORT.format(names=names)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env"]


@pytest.mark.parametrize("name", plivo_otp_app.__all__)
def test_every_public_name_resolves(name):
    assert getattr(plivo_otp_app, name) is not None


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError):
        plivo_otp_app.no_such_name  # noqa: B018


def test_routes_are_local_paths():
    assert Routes(login="/auth/login").login == "/auth/login"


@pytest.mark.parametrize("path", ["login", "", "//evil.example", "https://evil.example/"])
def test_routes_refuse_anything_but_a_local_path(path):
    with pytest.raises(ValueError, match=r"Routes\.login"):
        Routes(login=path)
