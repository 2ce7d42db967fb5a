"""`python -m plivo_otp_app admin create USERNAME` and `python -m plivo_otp_app audit purge`.

The database is `--db-url`, else the Reflex project's `db_url` (`REFLEX_DB_URL`, else rxconfig.py
in the current directory), as for `python -m plivo_otp_app.migrations`. `admin create` gives an
EXISTING account (sign it up first, with its own password and phone) the operator role that
opens `/admin`; there is no default admin and no default password. `audit purge` deletes the
audit events older than `AUDIT_RETENTION_DAYS` (run it daily, e.g. from cron).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from dotenv import load_dotenv


def _project_db_url() -> str:
    from reflex.config import get_config  # noqa: PLC0415 - only when no URL is given

    url = get_config().db_url
    if not url:
        raise SystemExit("no database: pass --db-url or set REFLEX_DB_URL (or db_url in rxconfig.py)")
    return url


def main(argv: list[str] | None = None) -> int:
    """Run one command, print its answer; the exit status (0 done, 1 refused)."""
    parser = argparse.ArgumentParser(prog="python -m plivo_otp_app", description=__doc__)
    groups = parser.add_subparsers(dest="group", required=True)
    admin = groups.add_parser("admin", help="operators of the /admin dashboard")
    admin_commands = admin.add_subparsers(dest="command", required=True)
    create = admin_commands.add_parser("create", help="make an existing account an admin")
    create.add_argument("username", help="the account's username (as it logs in)")
    audit = groups.add_parser("audit", help="the audit trail")
    audit_commands = audit.add_subparsers(dest="command", required=True)
    purge = audit_commands.add_parser("purge", help="delete events older than AUDIT_RETENTION_DAYS")
    for sub in (create, purge):
        sub.add_argument("--db-url", help="the database (default: the Reflex project's db_url)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    url = args.db_url or _project_db_url()

    from .audit import Audit  # noqa: PLC0415 - after the arguments: `--help` reads no settings
    from .config import AuditSettings, Settings  # noqa: PLC0415
    from .environ import load_group  # noqa: PLC0415

    load_dotenv(override=False)
    audit_settings = load_group(AuditSettings, os.environ)
    trail = Audit(audit_settings, url)
    if args.group == "admin":
        from .services.admin import AdminService  # noqa: PLC0415

        try:
            user_id = AdminService(Settings(), trail, url).make_admin(args.username)
        except LookupError:
            print(f"no account named {args.username!r}: sign it up first", file=sys.stderr)  # noqa: T201
            return 1
        print(f"{args.username} (user {user_id}) is an admin")  # noqa: T201 - the command's answer
        return 0
    gone = trail.purge()
    print(f"purged {gone} audit events older than {audit_settings.retention_days} days")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
