"""What the audit trail costs per send: the real service's `start` (a send: its `send_requested`
and `send_sent` rows) and `start` + `check` (its `code_verified` too), with the trail and with a
trail that writes nothing, in alternating batches of one run on fresh databases of the same kind,
so the ratio compares like with like. The provider answers at once and the pumping defences are
off, so what differs is the audit's rows (the keyed hash, the masking, the inserts). SQLite
always; PostgreSQL too when `BENCH_PG_URL` names a scratch database (its schema is rebuilt).

Prints one JSON object. `python bench/audit.py`
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pumping import OFF, UNLIMITED, InstantProvider, _postgres, _sqlite, _us_number

from plivo_otp_app.audit import Audit, AuditKind
from plivo_otp_app.config import load_settings
from plivo_otp_app.ratelimit import RateLimits
from plivo_otp_app.services import VerificationService

BATCHES = 8
PER_BATCH = 150


class Unrecorded(Audit):
    """A trail that writes nothing: the baseline."""

    def record(self, db: Any, kind: AuditKind, **fields: Any) -> None:  # type: ignore[override]
        return None


def _service(url: str, audited: bool) -> VerificationService:
    settings = load_settings({**UNLIMITED, **OFF})
    audit = Audit(settings.audit, url) if audited else Unrecorded(settings.audit, url)
    return VerificationService(settings, InstantProvider(), RateLimits(settings), db_url=url, audit=audit)


def _time(service: VerificationService, first: int, count: int, check: bool) -> tuple[list[float], float]:
    """Seconds of each send (with its check when `check`), and CPU seconds per operation."""
    samples = []
    cpu = time.process_time()
    for i in range(first, first + count):
        started = time.perf_counter()
        sent = service.start(_us_number(i), "US", "sms", f"10.{i % 250}.{i // 250 % 250}.1")
        if not check:
            samples.append(time.perf_counter() - started)
        service.check(sent.verification_id, "123456", "10.0.0.1")
        if check:
            samples.append(time.perf_counter() - started)
    return samples, (time.process_time() - cpu) / count


def cost(make_url) -> dict[str, float]:
    """p50 wall clock of a send and a send + check without and with the trail (µs, and their
    ratio), and the median CPU per send + check over the batches."""
    services = {"without": _service(make_url(), False), "with": _service(make_url(), True)}
    for service in services.values():
        _time(service, 0, 200, True)  # warm-up: imports, caches, statements, the hash key
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {"without": [], "with": []}
    for batch in range(BATCHES):
        first = 1000 + batch * PER_BATCH * 2
        for what, offset, check in (("send", 0, False), ("verification", PER_BATCH, True)):
            for mode, service in services.items():
                samples, per_op = _time(service, first + offset, PER_BATCH, check)
                wall.setdefault(f"{what}_{mode}", []).extend(samples)
                if check:
                    cpu[mode].append(per_op)
    figures: dict[str, float] = {}
    for what in ("send", "verification"):
        p50 = {mode: statistics.median(wall[f"{what}_{mode}"]) * 1e6 for mode in services}
        figures |= {
            f"{what}_without_audit_p50_us": round(p50["without"], 1),
            f"{what}_with_audit_p50_us": round(p50["with"], 1),
            f"{what}_audit_added_us": round(p50["with"] - p50["without"], 1),
            f"{what}_p50_ratio": round(p50["with"] / p50["without"], 2),
        }
    used = {mode: statistics.median(values) * 1e6 for mode, values in cpu.items()}
    return figures | {
        "verification_cpu_without_audit_us": round(used["without"], 1),
        "verification_cpu_with_audit_us": round(used["with"], 1),
        "verification_cpu_ratio": round(used["with"] / used["without"], 2),
    }


def main() -> None:
    results: dict[str, object] = {"sqlite": cost(_sqlite)}
    pg = os.environ.get("BENCH_PG_URL")
    if pg:
        prepared = _postgres(pg)
        results["postgresql"] = cost(lambda: prepared)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
