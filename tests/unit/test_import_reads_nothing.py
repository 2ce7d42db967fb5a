"""Importing the library decides nothing: no environment, no `.env`, no settings loaded.

The host app (or the demo app module, which is left out here) decides the settings
when it mounts the library; an import that read them would bake the environment of
whoever imported first into the library.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Imports every module of the library in a fresh interpreter, then reports what it read.
PROBE = """
import importlib, os, pkgutil
import plivo_otp_app
from plivo_otp_app import config
names = [
    m.name
    for m in pkgutil.walk_packages(plivo_otp_app.__path__, "plivo_otp_app.")
    if m.name != "plivo_otp_app.plivo_otp_app"  # the demo app: it decides
    # alembic's scripts, run only inside a migration (`plivo_otp_app.migrations.upgrade`)
    and not m.name.startswith(("plivo_otp_app.migrations.env", "plivo_otp_app.migrations.versions"))
]
for name in names:
    importlib.import_module(name)
print(len(names), "POISON_FROM_DOTENV" in os.environ, config.get_settings.cache_info().currsize)
"""


def test_every_module_imports_in_a_poisoned_environment_without_reading_it(tmp_path: Path):
    (tmp_path / ".env").write_text("OTP_PROVIDER=bogus\nPOISON_FROM_DOTENV=1\n")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OTP_PROVIDER": "bogus",  # any settings load raises ConfigError
        "OTP_CODE_LENGTH": "99",
        "REFLEX_DB_URL": "postgresql+psycopg://nobody@127.0.0.1:1/nothing",
    }
    env.pop("POISON_FROM_DOTENV", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    count, read_dotenv, settings_loaded = done.stdout.split()
    assert int(count) > 40  # every module was found, not none
    assert read_dotenv == "False"
    assert settings_loaded == "0"
