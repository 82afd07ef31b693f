#!/usr/bin/env python3
"""bench/measure.py -- time a command: median wall time of several runs and the
peak resident memory of the biggest run.

usage: measure.py [--runs N] [--setup SHELL_CMD] [--cwd DIR] [--cpu] -- COMMAND ARG...
prints: MEDIAN_SECONDS MIN_SECONDS PEAK_RSS_KB [MEDIAN_CPU_SECONDS]

--cpu adds the median CPU time (user + system) of the command and every process it
waited for: on a machine others load, what the command itself spent.

Standard output of the command goes to /dev/null; its standard error is shown
only when it fails (measure.py then exits 1). --setup runs before every run and is
not timed (e.g. removing an output folder). The command runs under bench/peak.c
(bench/out/peak, or $BENCH_PEAK), which reports its peak RSS: spawned straight
from Python, a command would be charged with the interpreter's own memory.
"""
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PEAK = os.environ.get("BENCH_PEAK", os.path.join(HERE, "out", "peak"))


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(cmd, cwd, rss_file):
    """One run: (seconds, peak_kb, cpu_seconds) or exit on failure."""
    err = tempfile.TemporaryFile()
    cpu = children_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen([PEAK, rss_file] + cmd, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=err)
    status = proc.wait()
    elapsed = time.perf_counter() - start
    if status != 0:
        err.seek(0)
        sys.stderr.write("measure.py: %s failed (exit %d):\n%s\n" % (
            " ".join(cmd), status, err.read()[-4000:].decode(errors="replace")))
        sys.exit(1)
    cpu = children_cpu() - cpu
    with open(rss_file) as f:
        return elapsed, int(f.read()), cpu


def main(argv):
    runs, setup, cwd, want_cpu = 5, None, None, False
    i = 0
    while i < len(argv) and argv[i] != "--":
        if argv[i] == "--runs":
            runs = int(argv[i + 1])
        elif argv[i] == "--setup":
            setup = argv[i + 1]
        elif argv[i] == "--cwd":
            cwd = argv[i + 1]
        elif argv[i] == "--cpu":
            want_cpu = True
            i += 1
            continue
        else:
            sys.exit("measure.py: unknown option " + argv[i])
        i += 2
    cmd = argv[i + 1:]
    if not cmd:
        sys.exit(__doc__)
    times, cpus, peak = [], [], 0
    fd, rss_file = tempfile.mkstemp(prefix="explainer-bench-rss.")
    os.close(fd)
    try:
        for _ in range(runs):
            if setup:
                subprocess.run(setup, shell=True, check=True)
            elapsed, kb, cpu = run_once(cmd, cwd, rss_file)
            times.append(elapsed)
            cpus.append(cpu)
            peak = max(peak, kb)
    finally:
        os.unlink(rss_file)
    line = "%.6f %.6f %d" % (statistics.median(times), min(times), peak)
    if want_cpu:
        line += " %.6f" % statistics.median(cpus)
    print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
