"""A load generator in its own process: N concurrent keep-alive clients for D seconds.

    python bench/load.py send    URL --concurrency 10 --duration 5 [--offset 0]
    python bench/load.py verify  URL --concurrency 10 --duration 5 --sessions FILE
    python bench/load.py sandbox URL --concurrency 10 --duration 5
    python bench/load.py prepare URL --count 500 --sandbox SANDBOX_URL --out FILE

Prints one JSON line: requests, rps, p50/p99 latency (ms) and the count per status.
`send` posts a new number each request (no per-number limit is hit); `verify`
posts the right code of one prepared verification per request; `sandbox` creates
sessions on the sandbox directly, as the Plivo SDK does (the "provider limit").
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

# Area codes whose 555-1000..9999 numbers `phonenumbers` accepts: 864,000 distinct numbers.
AREA_CODES = (
    "201",
    "202",
    "203",
    "205",
    "206",
    "207",
    "208",
    "209",
    "210",
    "212",
    "213",
    "214",
    "215",
    "216",
    "217",
    "218",
    "219",
    "224",
    "225",
    "228",
    "229",
    "231",
    "234",
    "239",
    "240",
    "248",
    "251",
    "252",
    "253",
    "254",
    "256",
    "260",
    "262",
    "267",
    "269",
    "270",
    "276",
    "281",
    "301",
    "302",
    "303",
    "304",
    "305",
    "307",
    "308",
    "309",
    "310",
    "312",
    "313",
    "314",
    "315",
    "316",
    "317",
    "318",
    "319",
    "320",
    "321",
    "323",
    "325",
    "330",
    "334",
    "336",
    "337",
    "339",
    "346",
    "347",
    "351",
    "352",
    "360",
    "361",
    "385",
    "386",
    "401",
    "402",
    "404",
    "405",
    "406",
    "407",
    "408",
    "409",
    "410",
    "412",
    "413",
    "414",
    "415",
    "417",
    "419",
    "423",
    "424",
    "425",
    "430",
    "432",
    "434",
    "435",
    "440",
    "443",
)
AUTH = base64.b64encode(b"MASANDBOX00000000000:sandbox-auth-token").decode()


def number(index: int) -> str:
    """The index-th valid US number of the form +1 AAA 555 NNNN, NNNN in 1000-9999."""
    area, rest = divmod(index % (9000 * len(AREA_CODES)), 9000)
    return f"+1{AREA_CODES[area % len(AREA_CODES)]}555{1000 + rest:04d}"


async def _run(url: str, make_request, concurrency: int, duration: float) -> dict:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    counter = iter(range(10**9))
    deadline = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                request = make_request(next(counter))
                if request is None:
                    return
                started = time.perf_counter()
                try:
                    response = await client.post(request[0], json=request[1], headers=request[2])
                    statuses[response.status_code] += 1
                except httpx.HTTPError as exc:
                    statuses[type(exc).__name__] += 1
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2) if latencies else None,
        "statuses": {str(k): v for k, v in statuses.items()},
    }


async def _prepare(url: str, sandbox: str, count: int, out: Path, offset: int) -> dict:
    sessions = []
    async with httpx.AsyncClient(timeout=30) as client:
        semaphore = asyncio.Semaphore(20)

        async def one(index: int) -> None:
            e164 = number(offset + index)
            async with semaphore:
                sent = await client.post(f"{url}/api/otp/send", json={"recipient": e164})
                if sent.status_code != 200:
                    return
                messages = await client.get(f"{sandbox}/sandbox/messages", params={"recipient": e164})
                sessions.append((sent.json()["session_uuid"], messages.json()["messages"][0]["code"]))

        await asyncio.gather(*(one(i) for i in range(count)))
    out.write_text("\n".join(f"{s} {c}" for s, c in sessions))
    return {"prepared": len(sessions)}


def main() -> None:
    """Parse the command line, run one load, print its figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["send", "verify", "sandbox", "prepare"])
    parser.add_argument("url")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--offset", type=int, default=0, help="first number index (keeps runs apart)")
    parser.add_argument("--sessions", type=Path)
    parser.add_argument("--sandbox")
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    if args.mode == "prepare":
        result = asyncio.run(_prepare(args.url, args.sandbox, args.count, args.out, args.offset))
    elif args.mode == "verify":
        pairs = [line.split() for line in args.sessions.read_text().splitlines() if line.strip()]

        def make(i: int):
            if i >= len(pairs):
                return None
            return "/api/otp/verify", {"session_uuid": pairs[i][0], "otp": pairs[i][1]}, None

        result = asyncio.run(_run(args.url, make, args.concurrency, args.duration))
        result["exhausted"] = result["requests"] >= len(pairs)
    elif args.mode == "sandbox":
        path = "/v1/Account/MASANDBOX00000000000/Verify/Session/"
        headers = {"Authorization": f"Basic {AUTH}"}

        def make(i: int):
            return (
                path,
                {"recipient": number(args.offset + i).lstrip("+"), "channel": "sms", "method": "POST"},
                headers,
            )

        result = asyncio.run(_run(args.url, make, args.concurrency, args.duration))
    else:

        def make(i: int):
            return "/api/otp/send", {"recipient": number(args.offset + i)}, None

        result = asyncio.run(_run(args.url, make, args.concurrency, args.duration))
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
