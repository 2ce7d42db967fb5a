"""`python -m plivo_otp_app.migrations upgrade|current|revision [--db-url URL]`.

The database is `--db-url`, else the Reflex project's `db_url` (`REFLEX_DB_URL`, else
rxconfig.py in the current directory).
"""

from __future__ import annotations

import argparse
import logging
import sys

from . import current, revision, upgrade


def _project_db_url() -> str:
    from reflex.config import get_config  # noqa: PLC0415 - only when no URL is given

    url = get_config().db_url
    if not url:
        raise SystemExit("no database: pass --db-url or set REFLEX_DB_URL (or db_url in rxconfig.py)")
    return url


def main(argv: list[str] | None = None) -> None:
    """Run one command and print its answer."""
    parser = argparse.ArgumentParser(prog="python -m plivo_otp_app.migrations", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("upgrade", help="create or upgrade the otp_ tables (default: to head)")
    up.add_argument("--revision", default="head")
    commands.add_parser("current", help="print the revision the otp_ tables are at")
    new = commands.add_parser("revision", help="write a new revision from the models (maintainers)")
    new.add_argument("-m", "--message", required=True)
    for sub in commands.choices.values():
        sub.add_argument("--db-url", help="the database (default: the Reflex project's db_url)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    url = args.db_url or _project_db_url()
    if args.command == "upgrade":
        before = current(url)
        upgrade(url, args.revision)
        after = current(url)
        was = "" if after == before else f" (was {before or 'none'})"
        print(f"otp tables at {after}{was}")  # noqa: T201 - the command's answer
    elif args.command == "current":
        print(current(url) or "none")  # noqa: T201 - the command's answer
    else:
        revision(url, args.message)


if __name__ == "__main__":
    main()
