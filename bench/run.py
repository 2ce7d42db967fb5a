"""Run every benchmark and print one table: `scripts/bench` (or `python bench/run.py`).

Each figure is measured next to its baseline in the same run:
1. API throughput and latency of send and verify at 1, 10 and 50 clients, against
   the bare Starlette endpoint on the same server (framework limit) and the
   sandbox answering directly (provider limit); the load comes from a separate
   process (`bench/load.py`), the sandbox runs in its own process.
2. The app's own cost per verification, in-process (`bench/inprocess.py`).
3. Browser: navigation to an interactive form, "Verify" to the success panel,
   JS transferred for `/` (`bench/browser.py`).
4. Backend RSS idle and after the load; growth over 10,000 verifications.
5. Throughput with 1 and 2 workers on PostgreSQL + Redis.
Everything runs on loopback and stops by itself. Options: `--duration`, `--quick`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import psutil
from pumping import OFF as PUMPING_OFF  # the load's baseline: bench/pumping.py prices the defences

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
PYTHON = sys.executable
REFLEX = str(Path(sys.executable).with_name("reflex"))
WRK = shutil.which("wrk")
#: What one start + check costs in SQL (services/verification_sql.py).
DB_STATEMENTS = "5 statements in 3 transactions for start, 2 in 2 for check"
UNLIMITED = {
    "RATE_LIMIT_SEND_PER_NUMBER": "1000000/hour",
    "RATE_LIMIT_SEND_PER_IP": "1000000/hour",
    "RATE_LIMIT_SEND_PER_PREFIX": "1000000/hour",
    "RATE_LIMIT_VERIFY_PER_IP": "1000000/hour",
    "LOG_LEVEL": "WARNING",
    **PUMPING_OFF,  # the load's codes are never verified; bench/pumping.py prices the defences
}


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, process: subprocess.Popen[bytes], seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer")


@contextmanager
def _server(command: list[str], ready_url: str, env: dict[str, str], log: Path) -> Iterator[psutil.Process]:
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait(ready_url, process)
        yield psutil.Process(process.pid)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _memory_mb(process: psutil.Process) -> dict[str, float]:
    """Memory in MiB of the backend: the worker's RSS, and the whole tree (the `reflex run`
    process, which is also granian's master, plus its worker) as RSS and as PSS. The worker
    is forked from the master after the app is loaded, so most pages are shared: PSS
    counts each shared page once, a sum of RSS counts it twice."""
    worker = tree_rss = tree_pss = 0
    for proc in [process, *process.children(recursive=True)]:
        with suppress(psutil.NoSuchProcess):
            info = proc.memory_full_info()
            tree_rss += info.rss
            tree_pss += info.pss
            if proc.pid != process.pid:
                worker = max(worker, info.rss)
    return {
        "worker_rss": round(worker / 2**20, 1),
        "tree_rss": round(tree_rss / 2**20, 1),
        "tree_pss": round(tree_pss / 2**20, 1),
    }


def _load(*args: str) -> dict:
    out = subprocess.run([PYTHON, str(BENCH / "load.py"), *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def _cpu_seconds(watch: dict[str, list[psutil.Process]]) -> dict[str, dict[int, float]]:
    """CPU seconds (user + system) so far of each watched process tree, by pid."""
    found: dict[str, dict[int, float]] = {}
    for name, roots in watch.items():
        found[name] = {}
        for root in roots:
            with suppress(psutil.NoSuchProcess):
                for proc in [root, *root.children(recursive=True)]:
                    with suppress(psutil.NoSuchProcess):
                        found[name][proc.pid] = sum(proc.cpu_times()[:2])
    return found


def _measure(
    mode: str,
    url: str,
    clients: int,
    duration: float,
    offset: int = 0,
    sessions: Path | None = None,
    watch: dict[str, list[psutil.Process]] | None = None,
) -> dict:
    """One load run, with the CPU each watched process tree (and the load generator) spent
    per request: what the two cores went to."""
    before, load_before = _cpu_seconds(watch or {}), resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    figures = _run_load(mode, url, clients, duration, offset, sessions)
    elapsed = time.monotonic() - started
    after, load_after = _cpu_seconds(watch or {}), resource.getrusage(resource.RUSAGE_CHILDREN)
    spent = {
        name: sum(seconds - before[name].get(pid, 0.0) for pid, seconds in after[name].items())
        for name in after
    }
    spent["load"] = (load_after.ru_utime + load_after.ru_stime) - (
        load_before.ru_utime + load_before.ru_stime
    )
    requests = max(1, figures["requests"])
    figures["cpu_ms_per_request"] = {
        name: round(seconds * 1000 / requests, 3) for name, seconds in spent.items()
    }
    figures["cores_busy"] = round(sum(spent.values()) / elapsed, 2)
    return figures


def _run_load(mode: str, url: str, clients: int, duration: float, offset: int, sessions: Path | None) -> dict:
    """One load run: Debian's `wrk` (C) where installed, else the Python generator."""
    if not WRK:
        extra = ["--sessions", str(sessions)] if sessions else ["--offset", str(offset)]
        return _load(mode, url, "--concurrency", str(clients), "--duration", str(duration), *extra)
    threads = min(2, clients)
    command = [
        WRK,
        f"-t{threads}",
        f"-c{clients}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / "wrk.lua"),
    ]
    script_args = [mode, str(offset)] + ([str(sessions), str(threads)] if sessions else [])
    out = subprocess.run([*command, url, "--", *script_args], check=True, capture_output=True, text=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    ok = figures["requests"] - figures["non2xx"]
    statuses = {"2xx": ok, "non-2xx": figures["non2xx"], "socket errors": figures["socket_errors"]}
    return {
        "requests": figures["requests"],
        "rps": round(figures["requests"] / figures["seconds"], 1),
        "p50_ms": figures["p50_ms"],
        "p99_ms": figures["p99_ms"],
        "statuses": {k: v for k, v in statuses.items() if v},
    }


def _app_env(
    sandbox_url: str, database: str, port: int, extra: dict[str, str] | None = None
) -> dict[str, str]:
    env = {
        **os.environ,
        **UNLIMITED,
        "OTP_PROVIDER": "plivo",
        "PLIVO_AUTH_ID": "MASANDBOX00000000000",
        "PLIVO_AUTH_TOKEN": "sandbox-auth-token",
        "PLIVO_API_BASE_URL": sandbox_url,
        "REFLEX_DB_URL": database,
        "REFLEX_CORS_ALLOWED_ORIGINS": f"http://127.0.0.1:{port},http://localhost:{port}",
    }
    env.update(extra or {})
    return env


def api_figures(
    app: str,
    bare: str,
    sandbox: str,
    duration: float,
    levels: list[int],
    work: Path,
    watch: dict[str, list[psutil.Process]],
) -> list[dict]:
    """Send and verify at each concurrency, with both baselines.

    Each run draws its numbers from its own block of the 864,000 bench numbers, so no
    number is sent twice (no per-number session reuse skews the sandbox).
    """
    rows = []
    for level, clients in enumerate(levels):
        row: dict = {"clients": clients}
        row["send"] = _measure("send", app, clients, duration, level * 100_000, watch=watch)
        row["bare"] = _measure("send", bare, clients, duration, 0)
        row["sandbox"] = _measure("sandbox", sandbox, clients, duration, 300_000 + level * 100_000)
        # Checks run faster than sends: prepare enough sessions that none is used twice.
        count = int(row["send"]["rps"] * duration * 3) + 200
        sessions = work / f"sessions-{clients}.txt"
        prepare = ["--sandbox", sandbox, "--count", str(count), "--out", str(sessions)]
        _load("prepare", app, *prepare, "--offset", str(600_000 + level * 50_000))
        row["verify"] = _measure("verify", app, clients, duration, sessions=sessions, watch=watch)
        rows.append(row)
    return rows


def _named(*names: str) -> list[psutil.Process]:
    """Running processes with one of these names (the loopback database servers)."""
    return [proc for proc in psutil.process_iter(["name"]) if proc.info["name"] in names]


def scaling_figures(sandbox_url: str, sandbox: psutil.Process, duration: float, work: Path) -> dict:
    """Send throughput at 50 clients with 1 and 2 workers on PostgreSQL + Redis."""
    services = subprocess.run(
        [str(ROOT / "scripts" / "services.sh"), "start"], check=True, capture_output=True, text=True
    )
    urls = dict(line.split("=", 1) for line in services.stdout.split())
    database = urls["TEST_DATABASE_URL"].rsplit("/", 1)[0] + "/otp_e2e"
    shared = urls["TEST_REDIS_URL"].rsplit("/", 1)[0] + "/2"
    figures = {}
    try:
        for workers in (1, 2):
            port = _port()
            env = _app_env(
                sandbox_url,
                database,
                port,
                {
                    "REFLEX_REDIS_URL": shared,
                    "RATE_LIMIT_STORAGE_URL": shared,
                    "GRANIAN_WORKERS": str(workers),
                },
            )
            subprocess.run(
                [PYTHON, "-m", "plivo_otp_app.migrations", "upgrade"],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
            )
            command = [REFLEX, "run", "--env", "prod", "--backend-only", "--backend-port", str(port)]
            url = f"http://127.0.0.1:{port}"
            with _server(command, f"{url}/api/health", env, work / f"scale-{workers}.log") as app:
                _measure("send", url, 10, 1, 750_000 + workers * 50_000)  # warm up
                watch = {
                    "app": [app],
                    "sandbox": [sandbox],
                    "postgres": _named("postgres"),
                    "redis": _named("redis-server"),
                }
                figures[workers] = _measure("send", url, 50, duration, workers * 100_000, watch=watch)
    finally:
        subprocess.run([str(ROOT / "scripts" / "services.sh"), "stop"], check=False)
    return figures


def main() -> None:
    """Start the servers, measure, print the table (and write it with --write)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per load run")
    parser.add_argument("--quick", action="store_true", help="1 and 10 clients, 2 s runs, no scaling")
    parser.add_argument("--write", type=Path, help="also write the markdown table here")
    args = parser.parse_args()
    duration = 2.0 if args.quick else args.duration
    levels = [1, 10] if args.quick else [1, 10, 50]
    work = Path(tempfile.mkdtemp(prefix="otp-bench-"))
    results: dict = {"command": " ".join(["scripts/bench", *sys.argv[1:]])}

    sandbox_port, bare_port, app_port = _port(), _port(), _port()
    sandbox_url, bare_url, app_url = (f"http://127.0.0.1:{p}" for p in (sandbox_port, bare_port, app_port))
    database = f"sqlite:///{work / 'bench.db'}"
    env = _app_env(sandbox_url, database, app_port)
    subprocess.run(
        [PYTHON, "-m", "plivo_otp_app.migrations", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    sandbox_cmd = [PYTHON, "-m", "plivo_otp_app.sandbox", "--port", str(sandbox_port)]
    bare_cmd = [str(Path(PYTHON).with_name("granian")), "--interface", "asgi", "--host", "127.0.0.1"]
    bare_cmd += ["--port", str(bare_port), "--workers", "1", "--log-level", "warning", "bench.bare:app"]
    app_cmd = [REFLEX, "run", "--env", "prod", "--single-port", "--backend-port", str(app_port)]
    with (
        _server(
            sandbox_cmd, f"{sandbox_url}/sandbox/messages", dict(os.environ), work / "sandbox.log"
        ) as sandbox,
        _server(bare_cmd, f"{bare_url}/", dict(os.environ), work / "bare.log"),
        _server(app_cmd, f"{app_url}/api/health", env, work / "app.log") as app,
    ):
        _measure("send", app_url, 10, 1, 850_000)  # warm up
        results["memory_idle_mb"] = _memory_mb(app)
        watch = {"app": [app], "sandbox": [sandbox]}
        results["api"] = api_figures(app_url, bare_url, sandbox_url, duration, levels, work, watch)
        results["memory_after_load_mb"] = _memory_mb(app)
        browser = subprocess.run(
            [
                PYTHON,
                str(BENCH / "browser.py"),
                "--url",
                app_url,
                "--sandbox",
                sandbox_url,
                "--runs",
                "3" if args.quick else "7",
            ],
            capture_output=True,
            text=True,
        )
        results["browser"] = json.loads(browser.stdout or "{}")
    inprocess = subprocess.run(
        [PYTHON, str(BENCH / "inprocess.py")], check=True, capture_output=True, text=True
    )
    results["inprocess"] = json.loads(inprocess.stdout)
    if not args.quick:
        with _server(
            [PYTHON, "-m", "plivo_otp_app.sandbox", "--port", str(sandbox_port)],
            f"{sandbox_url}/sandbox/messages",
            dict(os.environ),
            work / "sandbox2.log",
        ) as sandbox:
            results["scaling"] = scaling_figures(sandbox_url, sandbox, duration, work)
    table = render(results)
    print(table)
    (work / "results.json").write_text(json.dumps(results, indent=2))
    if args.write:
        args.write.write_text(table)


def _cpu(figure: dict) -> str:
    return ", ".join(f"{name} {ms}" for name, ms in figure["cpu_ms_per_request"].items())


def render(results: dict) -> str:
    """The markdown table of one run."""
    lines = [f"Command: `{results['command']}`", ""]
    lines += [
        f"### 1. API (loopback; load from {'wrk' if WRK else 'bench/load.py'} in its own process; sandbox in its own process)",
        "",
        "| clients | route | req/s | p50 ms | p99 ms | statuses | bare endpoint req/s (ratio) | sandbox direct req/s (ratio) | CPU ms per request | cores busy (of 2) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["api"]:
        bare, sandbox = row["bare"], row["sandbox"]
        for route in ("send", "verify"):
            figure = row[route]
            lines.append(
                f"| {row['clients']} | {route} | {figure['rps']} | {figure['p50_ms']} | {figure['p99_ms']} | "
                f"{figure['statuses']} | {bare['rps']} ({figure['rps'] / bare['rps']:.2f}) | "
                f"{sandbox['rps']} ({figure['rps'] / sandbox['rps']:.2f}) | {_cpu(figure)} | {figure['cores_busy']} |"
            )
        lines.append(
            f"| {row['clients']} | bare p50/p99 | | {bare['p50_ms']} | {bare['p99_ms']} | "
            f"app adds {row['send']['p50_ms'] - bare['p50_ms']:.2f} ms p50 on send | | | | |"
        )
    inproc = results["inprocess"]
    sweep = inproc["sweep"]
    lines += [
        "",
        "### 2. The app's own cost per verification (start + check, in-process, instant provider)",
        "",
        f"- p50 {inproc['verification_p50_us']} µs, p99 {inproc['verification_p99_us']} µs; of which phone rules "
        f"{inproc['phone_rules_p50_us']} µs and phone rules + rate limits {inproc['phone_rules_plus_limits_p50_us']} µs "
        f"(the rest is the database: {DB_STATEMENTS} on SQLite).",
        f"- rate-limit memory store at {sweep['keys']:,} live keys: one expiry sweep takes "
        f"{sweep['stock_sweep_ms']} ms in stock `limits` (100 a second: {sweep['stock_core_pct']} % of a core; "
        f"{sweep['stock_keys_after_expiry']:,} keys kept after all expired) and {sweep['ours_sweep_ms']} ms in ours "
        f"(1 a second: {sweep['ours_core_pct']} % of a core; {sweep['ours_keys_after_expiry']:,} keys kept)",
    ]
    browser = results.get("browser", {})
    lines += ["", "### 3. Browser (Debian Chromium, headless, fresh context per run)", ""]
    if "error" in browser or not browser:
        lines.append(f"- not measured: {browser.get('error', 'no output')}")
    else:
        lines += [
            f"- navigation to interactive phone form: median {browser['interactive_ms']} ms "
            f"(DOMContentLoaded {browser['dom_content_loaded_ms']} ms, load {browser['load_ms']} ms), "
            f"ratio to the 150 ms reference: {browser['interactive_ms'] / 150:.2f}",
            f"- click Verify to success panel: median {browser['verify_ms']} ms",
            f"- JS for `/`: {browser['js_files']} files, {browser['js_bytes_raw'] / 1024:.0f} KiB raw, "
            f"{browser['js_bytes_gzip'] / 1024:.0f} KiB gzip (reference 109 KB gzip)",
        ]
    idle, after = results["memory_idle_mb"], results["memory_after_load_mb"]
    brief = inproc["short_windows"]
    lines += [
        "",
        "### 4. Memory",
        "",
        f"- backend worker RSS: idle {idle['worker_rss']} MiB, after the load runs {after['worker_rss']} MiB",
        f"- whole backend (`reflex run`, which is also granian's master, plus the forked worker): "
        f"PSS idle {idle['tree_pss']} MiB, after the load runs {after['tree_pss']} MiB "
        f"(summed RSS {idle['tree_rss']} -> {after['tree_rss']} MiB counts the pages they share twice)",
        f"- in-process over 10,000 verifications, rate-limit windows of an hour (the store keeps every hit "
        f"for the hour by design): {inproc['rss_before_mb']} -> {inproc['rss_after_10k_mb']} MiB "
        f"({inproc['rss_growth_pct']}%)",
        f"- the same with 2-second windows, in a fresh process (what stays is what leaks): "
        f"{brief['rss_before_mb']} -> {brief['rss_after_10k_mb']} MiB ({brief['rss_growth_pct']}%, traced with "
        f"tracemalloc, which slows it); Python heap once the windows passed: {brief['heap_growth_kb']:+} KiB",
    ]
    if "scaling" in results:
        one, two = results["scaling"][1], results["scaling"][2]
        lines += [
            "",
            "### 5. Scaling on PostgreSQL + Redis (send, 50 clients)",
            "",
            f"- 1 worker: {one['rps']} req/s (p50 {one['p50_ms']} ms, p99 {one['p99_ms']} ms, {one['statuses']}); "
            f"CPU ms per request {_cpu(one)}; cores busy {one['cores_busy']} of 2",
            f"- 2 workers: {two['rps']} req/s (p50 {two['p50_ms']} ms, p99 {two['p99_ms']} ms, {two['statuses']}); "
            f"CPU ms per request {_cpu(two)}; cores busy {two['cores_busy']} of 2; ratio {two['rps'] / one['rps']:.2f}",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
