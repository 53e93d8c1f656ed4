"""A step's launch cost from a DPTRAIN_LAUNCH_TRACE file (Sources/Clock/StepLaunchTrace.swift).

Each line is `EVENT STEP PID NANOSECONDS`: the coordinator's `sent` (shards
sent to a worker), a worker's `ready` (its step done) and `start` (its
compute started). A worker can start a step only once it has its shards and
is done with the step before, so its launch is the time from the later of
the two to its start: the latest `sent` of that step not after the start,
and the worker's own `ready` of the step before. The ring sends work ahead,
so there the worker's own readiness is what it waits for.

    python3 launch_trace.py FILE  ->  {"launch_ms_median": ..., "launch_ms_p90": ..., "launches": N}
"""
import bisect
import json
import statistics
import sys
from collections import defaultdict


def launches_ms(path):
    sent = defaultdict(list)    # step -> times
    ready = {}                  # (pid, step) -> time
    starts = []                 # (pid, step, time)
    for line in open(path):
        parts = line.split()
        if len(parts) != 4:
            continue
        event, step, pid, t = parts[0], int(parts[1]), int(parts[2]), int(parts[3])
        if event == "sent":
            sent[step].append(t)
        elif event == "ready":
            ready[(pid, step)] = t
        elif event == "start":
            starts.append((pid, step, t))
    for times in sent.values():
        times.sort()
    out = []
    for pid, step, t in starts:
        times = sent.get(step, [])
        i = bisect.bisect_right(times, t)
        if i == 0:
            continue  # no send of this step before it: not a launch this trace saw
        since = max(times[i - 1], ready.get((pid, step - 1), 0))
        out.append((t - since) / 1e6)
    return out


def summary(path):
    try:
        values = sorted(launches_ms(path))
    except FileNotFoundError:
        values = []
    if not values:
        return {"launch_ms_median": None, "launch_ms_p90": None, "launches": 0}
    return {"launch_ms_median": round(statistics.median(values), 3),
            "launch_ms_p90": round(values[min(len(values) - 1, int(0.9 * len(values)))], 3),
            "launches": len(values)}


def launch_figures(work, round_number):
    """bench.sh's launch figures of one round: central and the ring (shared memory, sockets), 2 workers."""
    figures = {}
    for run, key in (("sim2", "2w"), ("sim2ring", "ring_2w"), ("sim2ringsockets", "ring_2w_sockets")):
        found = summary(f"{work}/{run}-{round_number}.launch")
        figures[f"launch_ms_{key}"] = found["launch_ms_median"]
        figures[f"launch_ms_p90_{key}"] = found["launch_ms_p90"]
    return figures


if __name__ == "__main__":
    print(json.dumps(summary(sys.argv[1])))
