"""Load on ``evokit serve`` (loopback only, bounded in clients and time): while one job runs,
50 clients each poll the job's state once a second and 20 listen to its event stream, for 60 s.

Reports requests served, errors (target 0), p50/p99 latency of the polls, events received by the
listeners, and the job's own throughput against the same job run with no clients. The two kinds of
job alternate (quiet, loaded, quiet, loaded, ...) on one server, so that the machine's slow spells
fall on both; a job's throughput is its trained networks per second of search time (summary.json:
the same seed and config train the same networks, so this is the search's wall time compared).

Run: ``python benchmarks/service_load.py [--rounds 3] [--seconds 60] [--pollers 50] [--listeners 20]``
(needs the serve extra and httpx). Everything stays on 127.0.0.1 and stops by itself.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "service"))
from server import Server  # noqa: E402

JOB = """
seed = 0
final_training = 0
[data]
name = "digits"
[encoding]
type = "deepga"
max_conv_blocks = 2
max_dense = 1
[[objectives]]
type = "accuracy"
epochs = 2
[algorithm]
type = "ga"
population = 8
generations = {generations}
"""


async def poller(client: httpx.AsyncClient, url: str, until: float, offset: float, latencies: list, errors: list) -> None:
    await asyncio.sleep(offset)
    while (start := time.monotonic()) < until:
        try:
            response = await client.get(url)
            if response.status_code != 200:
                errors.append(f"poll {response.status_code}")
        except httpx.HTTPError as exc:
            errors.append(f"poll {type(exc).__name__}")
        latencies.append(time.monotonic() - start)
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - start)))


async def listener(client: httpx.AsyncClient, url: str, until: float, counts: list, errors: list) -> None:
    events = 0
    while time.monotonic() < until:
        try:
            async with client.stream("GET", url, timeout=httpx.Timeout(10.0, read=None)) as stream:
                if stream.status_code != 200:
                    errors.append(f"events {stream.status_code}")
                    break
                async for line in stream.aiter_lines():
                    events += line.startswith("event: ")
                    if time.monotonic() >= until or line == "event: end":
                        break
        except httpx.HTTPError as exc:
            errors.append(f"events {type(exc).__name__}")
        break
    counts.append(events)


async def load(server: Server, job_id: str, seconds: float, pollers: int, listeners: int) -> dict:
    until = time.monotonic() + seconds
    latencies: list[float] = []
    errors: list[str] = []
    counts: list[int] = []
    limits = httpx.Limits(max_connections=pollers + listeners + 5)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=10.0) as client:
        tasks = [poller(client, f"/api/jobs/{job_id}", until, i / pollers, latencies, errors) for i in range(pollers)]
        tasks += [listener(client, f"/api/jobs/{job_id}/events", until, counts, errors) for _ in range(listeners)]
        await asyncio.gather(*tasks)
    latencies.sort()
    return {"requests": len(latencies), "errors": len(errors), "error_kinds": sorted(set(errors)),
            "p50_ms": 1000 * latencies[len(latencies) // 2], "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
            "max_ms": 1000 * latencies[-1], "events": sum(counts), "listeners": len(counts)}


def run_job(server: Server, generations: int, loaded: dict | None) -> dict:
    status, job, _ = server.request("POST", "/api/jobs", json.dumps({"config": JOB.format(generations=generations)})
                                    .encode(), {"Content-Type": "application/json"})
    assert status == 201, job
    server.wait_for(job["id"], ("running",))
    clients = asyncio.run(load(server, job["id"], **loaded)) if loaded else None
    done = server.wait_for(job["id"], ("finished", "failed"), timeout=1800)
    assert done["state"] == "finished", done
    summary = json.loads((server.root / "jobs" / job["id"] / "run" / "summary.json").read_text())
    stats = summary["stats"]
    return {"trained": stats["trained"], "search_s": stats["wall_time_s"],
            "per_s": stats["trained"] / stats["wall_time_s"], "clients": clients}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--pollers", type=int, default=50)
    parser.add_argument("--listeners", type=int, default=20)
    parser.add_argument("--generations", type=int, default=17, help="the job's generations (default: ~60 s of search)")
    args = parser.parse_args()
    loaded = {"seconds": args.seconds, "pollers": args.pollers, "listeners": args.listeners}
    with tempfile.TemporaryDirectory() as tmp, Server(Path(tmp) / "root", args=["-q"]) as server:
        quiet, busy = [], []
        for round_ in range(args.rounds):
            for kind, out in (("quiet", quiet), ("loaded", busy)) if round_ % 2 == 0 else (("loaded", busy), ("quiet", quiet)):
                result = run_job(server, args.generations, loaded if kind == "loaded" else None)
                out.append(result)
                print(f"round {round_ + 1} {kind:6}: {result['trained']} networks in {result['search_s']:.1f} s "
                      f"({result['per_s']:.3f}/s)" + (f"; clients: {result['clients']}" if result["clients"] else ""),
                      flush=True)
    q = statistics.median(r["per_s"] for r in quiet)
    b = statistics.median(r["per_s"] for r in busy)
    print(f"\njob throughput with clients / without: {b / q:.3f} (median of {args.rounds} each; target >= 0.90)")
    requests = sum(r["clients"]["requests"] for r in busy)
    errors = sum(r["clients"]["errors"] for r in busy)
    p50 = statistics.median(r["clients"]["p50_ms"] for r in busy)
    p99 = max(r["clients"]["p99_ms"] for r in busy)
    print(f"polls served: {requests} ({errors} errors); p50 {p50:.1f} ms, p99 {p99:.1f} ms (worst round); "
          f"events streamed: {sum(r['clients']['events'] for r in busy)}")


if __name__ == "__main__":
    main()
