"""Load test of `nlpkit serve`: one worker on loopback, wrk as the load generator.

Three runs, each bounded in time (and every request by a 2 s timeout), against a server this
script starts on a free loopback port and stops at the end:

1. paced: 64 keep-alive connections, each sending single-headline POST /predict requests at a
   steady pace (``--pace`` ms apart), about 4,000 requests/s in all: the latency a client sees
   at that load;
2. saturated: the same 64 connections sending as fast as the server answers: its throughput
   (and the latency of a queue 64 deep);
3. batches: 64 connections sending POST /predict with 100 headlines each, against the
   in-process `Predictor.predict` on the same batches (measured before and after, in turns).

Headlines are read at run time from the corpora beside the checkout (``--data``); without
them, from the seed pages' titles. Run from the repository root (needs `wrk`, e.g.
``apt-get install wrk``, and ``pip install -e '.[serve]'``)::

    python experiments/serve_load.py            # about 40 s; prints a markdown table
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CONNECTIONS = 64

# wrk's Lua side: the requests are formatted once, at start, and sent round-robin; `delay`
# paces each connection when PACE_MS is set; `done` prints the figures as one JSON line.
LUA = r"""
local bodies = dofile(os.getenv("NLPKIT_LOAD_BODIES"))
local pace = tonumber(os.getenv("NLPKIT_LOAD_PACE_MS") or "0")
local requests, n, i = {}, 0, 0
function init(args)
  local headers = {["Content-Type"] = "application/json"}
  for _, body in ipairs(bodies) do
    n = n + 1
    requests[n] = wrk.format("POST", "/predict", headers, body)
  end
  i = math.random(n) - 1
end
function request()
  i = i % n + 1
  return requests[i]
end
if pace > 0 then
  function delay() return pace end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.6f, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"p999_us": %d, "max_us": %d, "errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def headlines(limit: int, seed: int = 0) -> tuple[list[str], str]:
    """Up to ``limit`` distinct headlines from the corpora (or the seeds' titles), and where
    they came from."""
    found: list[str] = []
    for name in ("vnexpress_2020s.jsonl", "raw_corpus.jsonl"):
        path = DATA / name
        if not path.is_file():
            continue
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                title = json.loads(line).get("title") or ""
                if title.strip():
                    found.append(title.strip())
                if len(found) >= 20 * limit:
                    break
        if found:
            random.Random(seed).shuffle(found)
            return list(dict.fromkeys(found))[:limit], f"../shared/data/{name}"
    titles = [
        p.read_text(encoding="utf-8").split("\n", 1)[0] for p in (ROOT / "seeds").glob("*.txt")
    ]
    return [t for t in titles if t.strip()], "seeds/ (the corpora were not found)"


def lua_table(items: list[str]) -> str:
    # Lua long strings need no escaping; the level of '=' keeps any ']]' in a text apart.
    return "return {\n" + "".join(f"[==[{item}]==],\n" for item in items) + "}\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, script: Path, bodies: Path, seconds: int, pace_ms: int = 0, pid: int = 0) -> dict:
    """wrk's figures, with the server's CPU time during the run (``cpu``, seconds)."""
    cpu = cpu_seconds(pid)
    env = dict(os.environ, NLPKIT_LOAD_BODIES=str(bodies), NLPKIT_LOAD_PACE_MS=str(pace_ms))
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--timeout",
            "2s",
            "-s",
            str(script),
            url,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    figures["rate"] = figures["requests"] / figures["seconds"]
    figures["cpu"] = cpu_seconds(pid) - cpu
    return figures


def in_process(batches: list[list[str]], seconds: float) -> tuple[float, float]:
    """Texts per second of `Predictor.predict` on the batches, one after another, and per
    second of CPU time."""
    import nlpkit

    predictor = nlpkit.load()
    predictor.predict(batches[0])
    done, started, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        for batch in batches:
            predictor.predict(batch)
            done += len(batch)
    return done / (time.perf_counter() - started), done / (time.process_time() - cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument(
        "--pace",
        type=int,
        default=11,
        help="paced run: milliseconds between a connection's requests (default 11: at most "
        "5,818 requests/s from 64 connections; wrk's timers and the machine's load make it "
        "4,000 to 4,700 here)",
    )
    parser.add_argument("--headlines", type=int, default=5000, help="distinct headlines to send")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install wrk")
    texts, source = headlines(args.headlines)
    batches = [texts[i : i + 100] for i in range(0, len(texts) - 99, 100)] or [texts]
    port = free_port()
    url = f"http://127.0.0.1:{port}/predict"
    server = subprocess.Popen(
        [sys.executable, "-m", "nlpkit", "serve", "--port", str(port), "--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"the server did not start: {server.stderr.read()}")
                time.sleep(0.1)
        with tempfile.TemporaryDirectory() as tmp:
            script, single, batch = (
                Path(tmp, "load.lua"),
                Path(tmp, "one.lua"),
                Path(tmp, "batch.lua"),
            )
            script.write_text(LUA, encoding="utf-8")
            single.write_text(
                lua_table([json.dumps({"text": t}, ensure_ascii=False) for t in texts]),
                encoding="utf-8",
            )
            batch.write_text(
                lua_table([json.dumps({"texts": b}, ensure_ascii=False) for b in batches]),
                encoding="utf-8",
            )
            before = load()
            pid = server.pid
            paced = wrk(url, script, single, args.seconds, args.pace, pid)
            saturated = wrk(url, script, single, args.seconds, pid=pid)
            alone_1, alone_cpu_1 = in_process(batches, args.seconds / 2)
            served = wrk(url, script, batch, args.seconds, pid=pid)
            alone_2, alone_cpu_2 = in_process(batches, args.seconds / 2)
            after = load()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=40)

    def row(name: str, f: dict, per: int = 1) -> str:
        return (
            f"| {name} | {f['rate']:,.0f} | {f['rate'] * per:,.0f} | {f['p50_us'] / 1000:.2f} | "
            f"{f['p90_us'] / 1000:.2f} | {f['p99_us'] / 1000:.2f} | {f['p999_us'] / 1000:.2f} | "
            f"{f['errors'] + f['non_2xx']} | {f['cpu'] / f['seconds']:.2f} | "
            f"{1e6 * f['cpu'] / f['requests']:,.0f} |"
        )

    alone, alone_cpu = (alone_1 + alone_2) / 2, (alone_cpu_1 + alone_cpu_2) / 2
    served_cpu = served["requests"] * 100 / served["cpu"]
    print(
        f"{len(texts):,} headlines from {source}; one worker; {CONNECTIONS} keep-alive "
        f"connections (wrk, 1 thread); {args.seconds} s a run."
    )
    print(f"Machine: {os.cpu_count()} cores; uptime before: {before}; after: {after}.\n")
    print(
        "| run | requests/s | headlines/s | p50 ms | p90 ms | p99 ms | p99.9 ms | errors "
        "| server's CPU use (cores) | server's CPU µs a request |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print(row(f"single headline, paced ({args.pace} ms between a connection's requests)", paced))
    print(row("single headline, as fast as answered", saturated))
    print(row("batches of 100 headlines, as fast as answered", served, 100))
    print(
        f"\nIn-process `predict` on the same batches: {alone_1:,.0f} and {alone_2:,.0f} "
        f"headlines/s (before and after); served / in-process: "
        f"{served['rate'] * 100 / alone:.2f}. Per second of CPU time: in-process "
        f"{alone_cpu:,.0f} headlines, served {served_cpu:,.0f} (the server's CPU alone); "
        f"served / in-process: {served_cpu / alone_cpu:.2f}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
