#!/usr/bin/env python3
"""Times GET requests with wrk and prints, per target, the median over ROUNDS runs of: requests/s,
p50, p99 and the server's CPU per request.

    wrk_latency.py LABEL URL PATHS_FILE PID [LABEL URL PATHS_FILE PID …]
    env: TOKEN (bearer), ROUNDS=3, DUR=5 (s), THREADS=1, CONNS=4, RESULTS_DIR

With several targets the rounds alternate between them (A B A B …), so drift in the machine's other
load hits every target alike. wrk requests cycle through the paths in PATHS_FILE (Benchmarks/wrk/get.lua).
The server's CPU per request (utime + stime of PID from /proc over the run; PID "-" for none) is the
figure least disturbed by other load. Non-2xx answers or socket errors make it fail loudly."""
import os
import re
import statistics
import subprocess
import sys

args = sys.argv[1:]
if not args or len(args) % 4:
    sys.exit(__doc__)
targets = [args[i:i + 4] for i in range(0, len(args), 4)]
rounds, dur = int(os.environ.get("ROUNDS", "3")), os.environ.get("DUR", "5")
threads, conns = os.environ.get("THREADS", "1"), os.environ.get("CONNS", "4")
script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wrk", "get.lua")
results = os.environ.get("RESULTS_DIR", "/tmp/concierge-bench-results")
os.makedirs(results, exist_ok=True)


def cpu_ticks(pid):
    if pid == "-":
        return 0
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


runs = {label: [] for label, *_ in targets}
for r in range(rounds):
    for label, url, paths, pid in targets:
        before = cpu_ticks(pid)
        out = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", f"-d{dur}s", "--timeout", "60s", "--latency", "-s", script, url],
                             env=dict(os.environ, PATHS_FILE=paths), capture_output=True, text=True, check=True).stdout
        ticks = cpu_ticks(pid) - before
        with open(os.path.join(results, f"{label}-r{r + 1}.txt"), "w") as f:
            f.write(out)
        if "Non-2xx" in out or "Socket errors" in out:
            sys.exit(f"{label}: errors in wrk output:\n{out}")
        p50 = ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
        p99 = ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        requests = int(re.search(r"(\d+) requests in", out).group(1))
        runs[label].append((rps, p50, p99, ticks / os.sysconf("SC_CLK_TCK") * 1e6 / max(1, requests)))
for label, values in runs.items():
    rps, p50, p99, cpu = (statistics.median(x[i] for x in values) for i in range(4))
    line = "%-34s %7.0f req/s  p50 %7.2f ms  p99 %7.2f ms  server CPU %6.0f µs/req  (p50 of each round: %s)" % (
        label, rps, p50, p99, cpu, " / ".join("%.2f" % x[1] for x in values))
    print(line, flush=True)
    with open(os.path.join(results, "summary.txt"), "a") as f:
        f.write(line + "\n")
