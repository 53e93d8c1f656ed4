#!/usr/bin/env python3
"""The cost model of docs/performance.md against scripts/netbench.sh's cells.

  netmodel.py COMPUTE_JSON LINKS_JSONL CELLS_JSONL WALL_SECONDS [DDP_JSONL [DDP_SKIPPED]]

Prints the table; then the bytes a step that crossed each simulated host's
link (several workers a host with netbench's --workers-per-host); then
dptrain's best collective per cell against PyTorch DDP's run of the same
cell (DDP_JSONL: scripts/lib/ddp_peer.py's lines, or DDP_SKIPPED: why it
did not run); then one JSON line. Symbols as in
docs/performance.md: P parameters, N workers (A of them busy), B global
batch, S shard size, F FLOPs per sample, R_c one worker's compute rate,
beta link goodput, alpha one-way latency, K steps in a cell.
"""
import json
import math
import sys

LAYERS = [784, 512, 256, 10]
S = 32                  # micro-shard size
WEIGHT_BYTES = 4        # Float32 weights: central's first step, ring formation, snapshots
# Weights over a network after the first step (central's work, the ring's
# all-gather): each weight's step from the weights before
# (PackedInt64s.packWeightSteps), 2.4-2.5 bytes a weight measured on
# 784-512-256-10 trained on Fashion-MNIST.
STEP_BYTES = 2.45
# Fixed-point gradient sum, zigzagged and packed in blocks of 16 at any bit
# width (PackedInt64s) over tcp: 3.2-3.4 bytes a value measured on
# Fashion-MNIST sums. Central sends a worker's sum to the coordinator, the
# ring's reduce-scatter partial sums. Before (blocks of 256 at 0, 4 or 8
# bytes) netbench's link counters saw 4.3-5.1 (central) and 4.8-5.9 (the
# ring's busiest member) over 20 steps at 1 Gbit/s, 4.2 over long runs.
GRADIENT_BYTES = 3.3
SAMPLE_BYTES = 784 + 1  # UInt8 pixels and label
DONE_BYTES = 64         # a "ring done" message (header only), each member -> coordinator
SNAPSHOT_INTERVAL = 64  # RingCoordinator.snapshotInterval: steps between gathers of the state
GOAL_OVER_DDP = 1.5     # issue 13: dptrain's samples/s at least 1.5 times DDP's in every cell

pairs = list(zip(LAYERS, LAYERS[1:]))
P = sum(i * o + o for i, o in pairs)
W = sum(i * o for i, o in pairs)
# Forward 2W, weight gradients 2W, input gradients 2W except the first layer's.
F = 4 * W + 2 * (W - LAYERS[0] * LAYERS[1])


def compute_seconds(n, b, rc):
    """The busiest worker's shards: both collectives hand out contiguous blocks as even as possible."""
    shards = math.ceil(b / S)
    return math.ceil(shards / min(n, shards)) * S * F / rc


def central(n, b, rc, beta, alpha, g=GRADIENT_BYTES):
    """One steady step: seconds, the share outside gradient computation, the
    full-duplex lower bound, and payload bytes per step as {link: [in, out]}.
    Over a network the weights go as steps from the last step's (the first
    step's Floats are left out)."""
    shards = math.ceil(b / S)
    busy = min(n, shards)
    compute = compute_seconds(n, b, rc)
    link = (busy * (STEP_BYTES + g) * P + b * SAMPLE_BYTES) / beta
    step = compute + link + 2 * alpha
    # Full duplex: gradients may start coming in once the first worker has its
    # weights, while the others' weights still go out.
    pipelined = compute + (STEP_BYTES * P + busy * g * P + b * SAMPLE_BYTES) / beta + 2 * alpha
    per_worker_samples = math.ceil(shards / busy) * S
    moved = {"coordinator": [busy * g * P, busy * STEP_BYTES * P + b * SAMPLE_BYTES],
             "worker": [STEP_BYTES * P + per_worker_samples * SAMPLE_BYTES, g * P]}
    return step, 1 - compute / step, pipelined, moved


def ring(n, b, rc, beta, alpha, steps, g=GRADIENT_BYTES, hosts=None):
    """One step as built (RingCoordinator, RingWorker): the coordinator sends
    every member its samples; the members compute, reduce-scatter packed
    Int64 sums (N - 1 rounds of P/N values), update their slice, all-gather
    the weights as packed steps (N - 1 rounds), and each sends the coordinator a done.

    Returns the steady step (a snapshot of P weights and P velocities into
    the coordinator every 64 steps, amortised), the step a K-step cell
    measures (its first step also forms the ring: every member gets all
    weights and its velocity slice through the coordinator's link; the
    epoch-end snapshot lies outside the steps' timing), that cell's share
    outside gradient computation, and payload bytes over the whole cell
    per step as {link: [in, out]}.

    `hosts`: two levels (several workers a host). Inside a host the rings
    go through shared memory, off the link; between hosts each local rank's
    ring all-reduces 1/(n/hosts) of the model, so a host's link carries
    (H - 1)/H of (g + w)·P each way, H = hosts, as one ring of H would."""
    shards = math.ceil(b / S)
    compute = compute_seconds(n, b, rc)
    samples = b * SAMPLE_BYTES / beta + 2 * alpha  # all members' samples share the coordinator's link
    members = hosts or n  # who shares each link's bytes
    exchange = (members - 1) / members * (g + STEP_BYTES) * P / beta + 2 * (members - 1) * alpha
    snapshot = 2 * WEIGHT_BYTES * P / beta + 2 * alpha
    formation = (n + 1) * WEIGHT_BYTES * P / beta + 2 * alpha
    bare = samples + compute + exchange
    steady = bare + snapshot / SNAPSHOT_INTERVAL
    cell = bare + (formation + (steps - 1) // SNAPSHOT_INTERVAL * snapshot) / steps
    per_worker_samples = math.ceil(shards / min(n, shards)) * S
    snapshots = (steps - 1) // SNAPSHOT_INTERVAL + 1  # and the one at the epoch's end
    ring_bytes = (members - 1) / members * (g + STEP_BYTES) * P
    moved = {"coordinator": [n * DONE_BYTES + snapshots * 2 * WEIGHT_BYTES * P / steps,
                             b * SAMPLE_BYTES + (n + 1) * WEIGHT_BYTES * P / steps],
             "worker": [ring_bytes + per_worker_samples * SAMPLE_BYTES + (1 + 1 / n) * WEIGHT_BYTES * P / steps,
                        ring_bytes + DONE_BYTES + snapshots * 2 * WEIGHT_BYTES * P / n / steps]}
    return steady, cell, 1 - compute / cell, moved


def counted_gradient_bytes(cell):
    """Bytes per gradient value that the links' counters saw (tx of the
    workers' eth0, which GSO lets count close to payload; at 100 Mbit/s it
    also holds retransmissions of what tbf dropped). Central: the mean
    over busy workers, since the coordinator's link carries them all. Ring:
    the busiest member, since every round waits for its largest chunk."""
    n, steps, sent = cell["workers"], cell["steps"], [out for _, out in cell["worker_bytes"]]
    if cell["collective"] == "central":
        busy = [out for out in sent if out > P]
        return sum(out / steps / P for out in busy) / len(busy)
    share = (n - 1) / n
    return max((out / steps - share * STEP_BYTES * P - 2 * WEIGHT_BYTES * P / n / steps) / (share * P) for out in sent)


def predict(cell, links, rc, g=GRADIENT_BYTES):
    collective, rate, n, b = cell.get("collective", "central"), cell["rate"], cell["workers"], cell["batch"]
    link = links[rate]
    beta = link["mbit_per_s"] * 1e6 / 8
    alpha = link["rtt_us_median"] / 2 * 1e-6
    if collective == "central":
        step, comm, bound, moved = central(n, b, rc, beta, alpha, g)
        return {"predicted_step_ms": step * 1e3, "steady_step_ms": step * 1e3, "bound_step_ms": bound * 1e3,
                "predicted_comm_fraction": comm, "predicted_bytes_per_step": moved}
    steps = cell.get("steps") or 20
    per_host = cell.get("workers_per_host") or 1
    # The two-level ring's members share a host's link; ring-flat runs all N in one ring.
    hosts = n // per_host if collective == "ring" and per_host > 1 else None
    steady, step, comm, moved = ring(n, b, rc, beta, alpha, steps, g, hosts)
    return {"predicted_step_ms": step * 1e3, "steady_step_ms": steady * 1e3, "bound_step_ms": None,
            "predicted_comm_fraction": comm, "predicted_bytes_per_step": moved}


def ddp_bytes_per_step(n):
    """What each DDP rank sends a step: a ring all-reduce of P Float32 gradients."""
    return 2 * (n - 1) / n * 4 * P


def print_table(rows):
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(value.rjust(width) for value, width in zip(row, widths)))


def across_hosts(cells, ddp_cells):
    """Per cell (dptrain's, then DDP's): samples/s and the bytes a step that
    crossed a worker host's link, in and out, mean over hosts; ring-flat's
    against the ring's of the same cell. Prints the table; returns its rows
    for the JSON line."""
    table = []
    for cell in cells + [dict(c, collective="ddp") for c in ddp_cells]:
        row = {"collective": cell["collective"], "rate": cell["rate"], "workers": cell["workers"],
               "workers_per_host": cell.get("workers_per_host", 1), "batch": cell["batch"],
               "samples_per_second": None, "host_in_bytes_per_step": None, "host_out_bytes_per_step": None,
               "bytes_over_ring": None}
        if not cell.get("failed"):
            hosts = cell["host_bytes"]
            row.update(samples_per_second=cell["samples_per_second"],
                       host_in_bytes_per_step=round(sum(i for i, _ in hosts) / len(hosts) / cell["steps"]),
                       host_out_bytes_per_step=round(sum(o for _, o in hosts) / len(hosts) / cell["steps"]))
        table.append(row)

    def moved(row):
        return row["host_in_bytes_per_step"] + row["host_out_bytes_per_step"]
    ring = {(r["rate"], r["workers"], r["batch"]): r for r in table
            if r["collective"] == "ring" and r["samples_per_second"] is not None}
    for row in table:
        two_level = ring.get((row["rate"], row["workers"], row["batch"]))
        if row["collective"] == "ring-flat" and row["samples_per_second"] is not None and two_level:
            row["bytes_over_ring"] = round(moved(row) / moved(two_level), 3)

    rows = [("collective", "rate", "N", "W", "hosts", "B", "samples/s", "host out MB/step", "host in MB/step",
             "bytes / ring's")]
    for row in table:
        measured = row["samples_per_second"] is not None
        rows.append((row["collective"], row["rate"], str(row["workers"]), str(row["workers_per_host"]),
                     str(row["workers"] // row["workers_per_host"]), str(row["batch"]),
                     f"{row['samples_per_second']:,.0f}" if measured else "failed",
                     f"{row['host_out_bytes_per_step'] / 1e6:.3f}" if measured else "",
                     f"{row['host_in_bytes_per_step'] / 1e6:.3f}" if measured else "",
                     "" if row["bytes_over_ring"] is None else f"{row['bytes_over_ring']:.2f}"))
    print()
    print("Across each host's link")
    print_table(rows)
    print("W workers (or DDP ranks) on each of N/W simulated hosts; MB/step: bytes a worker host's eth0 received "
          "and sent over the whole cell (start, steps, evaluation, shutdown; headers included) per step, the mean "
          "over hosts; a host's workers reach each other through shared memory (dptrain) or the loopback (DDP), "
          "off the link; ring-flat: the ring through all N workers (coordinator's --no-hierarchical), bytes / "
          "ring's: its host-link bytes in + out over the two-level ring's")
    return table


def against_ddp(cells, ddp_cells, skipped):
    """Per (rate, N, B): dptrain's fastest collective against DDP, and
    whether every collective's model was train's. Prints the table;
    returns its rows for the JSON line."""
    ddp = {(c["rate"], c["workers"], c["batch"]): c for c in ddp_cells}
    table = []
    for key in dict.fromkeys((c["rate"], c["workers"], c["batch"]) for c in cells):
        rate, n, b = key
        asked = [c for c in cells if (c["rate"], c["workers"], c["batch"]) == key]
        ran = [c for c in asked if not c.get("failed")]
        best = max(ran, key=lambda c: c["samples_per_second"], default=None)
        different = [c["collective"] for c in ran if c.get("model") != "identical"]
        peer = None if skipped else ddp.get(key, {"failed": True})
        row = {"rate": rate, "workers": n, "batch": b, "best_collective": best and best["collective"],
               "samples_per_second": best and best["samples_per_second"],
               "worker_out_bytes_per_step": best and round(max(out for _, out in best["host_bytes"]) / best["steps"]),
               "models": "DIFFERENT" if different else "identical" if ran else None, "different": different,
               "ddp_samples_per_second": None, "ddp_samples_per_second_with_construction": None,
               "ddp_samples_per_second_after_first_step": None,
               "ddp_out_bytes_per_step": None, "over_ddp": None, "goal": GOAL_OVER_DDP, "met": None}
        if peer and not peer.get("failed"):
            row.update(ddp_samples_per_second=peer["samples_per_second"],
                       ddp_samples_per_second_with_construction=peer.get("samples_per_second_with_construction"),
                       ddp_samples_per_second_after_first_step=peer.get("samples_per_second_after_first_step"),
                       ddp_out_bytes_per_step=round(max(out for _, out in peer["host_bytes"]) / peer["steps"]))
        if best and row["ddp_samples_per_second"]:
            row["over_ddp"] = round(best["samples_per_second"] / row["ddp_samples_per_second"], 3)
        if not skipped:
            row["met"] = (row["over_ddp"] or 0) >= GOAL_OVER_DDP and len(ran) == len(asked) and not different
        table.append(row)

    def shown(value, form, missing):
        return missing if value is None else format(value, form)
    absent = "-" if skipped else "failed"
    rows = [("rate", "N", "B", "best", "dptrain samples/s", "DDP samples/s", "over DDP", "goal", "met", "models",
             "DDP with construction", "DDP after 1st step", "worker out MB/step", "DDP out MB/step", "DDP pred")]
    for row in table:
        rows.append((row["rate"], str(row["workers"]), str(row["batch"]), row["best_collective"] or "failed",
                     shown(row["samples_per_second"], ",.0f", ""), shown(row["ddp_samples_per_second"], ",.0f", absent),
                     shown(row["over_ddp"], ".2f", ""), f"{GOAL_OVER_DDP}",
                     "" if row["met"] is None else "yes" if row["met"] else "no",
                     f"DIFFERENT ({', '.join(row['different'])})" if row["different"] else row["models"] or "",
                     shown(row["ddp_samples_per_second_with_construction"], ",.0f", ""),
                     shown(row["ddp_samples_per_second_after_first_step"], ",.0f", ""),
                     shown(row["worker_out_bytes_per_step"] and row["worker_out_bytes_per_step"] / 1e6, ".2f", ""),
                     shown(row["ddp_out_bytes_per_step"] and row["ddp_out_bytes_per_step"] / 1e6, ".2f", ""),
                     f"{ddp_bytes_per_step(row['workers']) / 1e6:.2f}"))
    print()
    print("dptrain against PyTorch DDP (gloo) on the same links" + (f"; DDP peer skipped: {skipped}" if skipped else ""))
    print_table(rows)
    print("best: dptrain's fastest collective, its samples/s from metrics.jsonl: the epoch's samples over the sum of "
          "its steps' times (the ring's first step also forms it); DDP samples/s: the same samples over the slowest "
          "rank's time from its first step's start to its last step's end (DDP broadcasts the parameters before "
          "that; its ranks read their samples from their own disks, dptrain's come over the coordinator's link); "
          "DDP with construction: from before DDP's construction (its parameter broadcast, as the ring's formation); "
          "DDP after 1st step: without its first step; met: over DDP >= goal and every collective's "
          "model.safetensors byte for byte train's (models); MB/step: the busiest host's bytes out per step from "
          "the links' counters (one worker or rank a host, unless W above); DDP pred: a ring all-reduce of P Float32 gradients, 2(N-1)/N*4P")
    return table


def main():
    compute_json, links_path, cells_path, wall = sys.argv[1:5]
    ddp_path = sys.argv[5] if len(sys.argv) > 5 else None
    skipped = sys.argv[6] if len(sys.argv) > 6 and sys.argv[6] else None
    if ddp_path is None:
        skipped = skipped or "not asked for"
    compute = json.loads(compute_json)
    rc = compute["mlp_shard_gflops"] * 1e9
    links = {l["rate"]: l["link"] for l in map(json.loads, open(links_path)) if l}
    cells = [json.loads(l) for l in open(cells_path) if l.strip()]

    print(f"P = {P:,} parameters, F = {F:,} FLOP/sample ({F / P:.2f} P), S = {S}, "
          f"R_c = {rc / 1e9:.1f} GFLOP/s (mlp_shard_gflops, one thread)")
    for rate, link in links.items():
        print(f"{rate}: one TCP flow through the shaped path {link['mbit_per_s']:.0f} Mbit/s (beta), "
              f"round trip {link['rtt_us_median']:.0f} us (2 alpha)")
    header = ("collective", "rate", "N", "busy", "B", "steps", "samples/s", "predicted", "meas/pred",
              "comm", "pred comm", "step ms", "pred ms", "steady ms", "bound ms",
              "worker out MB/step", "pred", "coord MB/step", "pred", "g seen", "pred at g seen", "meas/pred")
    rows = [header]
    for cell in cells:
        n, b = cell["workers"], cell["batch"]
        cell.setdefault("collective", "central")
        prediction = predict(cell, links, rc)
        step_ms = prediction["predicted_step_ms"]
        moved = prediction["predicted_bytes_per_step"]
        cell.update(busy=min(n, math.ceil(b / S)),
                    predicted_samples_per_second=round(b / step_ms * 1e3, 1),
                    predicted_comm_fraction=round(prediction["predicted_comm_fraction"], 4),
                    predicted_step_ms=round(step_ms, 2), steady_step_ms=round(prediction["steady_step_ms"], 2),
                    pipelined_bound_step_ms=None if prediction["bound_step_ms"] is None
                    else round(prediction["bound_step_ms"], 2),
                    predicted_bytes_per_step={k: [round(v) for v in io] for k, io in moved.items()})
        bound = "" if prediction["bound_step_ms"] is None else f"{prediction['bound_step_ms']:,.1f}"
        predicted_worker_mb = f"{moved['worker'][1] / 1e6:.2f}"
        predicted_coordinator_mb = f"{sum(moved['coordinator']) / 1e6:.2f}"
        if cell.get("failed"):
            measured = ("failed", "", "", "", "", "")
            worker_mb = coordinator_mb = ""
            seen = ("", "", "")
        else:
            sps = cell["samples_per_second"]
            cell["step_ms"] = round(b / sps * 1e3, 2)
            frac = cell.get("comm_fraction")
            measured = (f"{sps:,.0f}", f"{cell['predicted_samples_per_second']:,.0f}", f"{sps * step_ms / 1e3 / b:.2f}",
                        "" if frac is None else f"{frac:.3f}", f"{prediction['predicted_comm_fraction']:.3f}",
                        f"{cell['step_ms']:,.1f}")
            if cell.get("disturbed"):
                measured = (measured[0] + "*",) + measured[1:]
            steps = cell["steps"]
            # Counters include TCP/IP and Ethernet headers (about 4.5%) and start-up and shutdown.
            worker_mb = f"{max(out for _, out in cell['worker_bytes']) / steps / 1e6:.2f}" if "worker_bytes" in cell else ""
            coordinator_mb = f"{sum(cell['coordinator_bytes']) / steps / 1e6:.2f}" if "coordinator_bytes" in cell else ""
            seen = ("", "", "")
            if "worker_bytes" in cell:
                g = counted_gradient_bytes(cell)
                at_g = b / predict(cell, links, rc, g)["predicted_step_ms"] * 1e3
                cell.update(counted_gradient_bytes=round(g, 2), predicted_samples_per_second_at_counted_g=round(at_g, 1))
                seen = (f"{g:.2f}", f"{at_g:,.0f}", f"{sps / at_g:.2f}")
        rows.append((cell["collective"], cell["rate"], str(n), str(cell["busy"]), str(b), str(cell.get("steps", "")),
                     *measured, f"{step_ms:,.1f}", f"{prediction['steady_step_ms']:,.1f}", bound,
                     worker_mb, predicted_worker_mb, coordinator_mb, predicted_coordinator_mb, *seen))
    print_table(rows)
    print("pred: the model's step for this cell (for the ring including its formation, spread over the cell's "
          "steps); steady: a long run's step (the ring's snapshot every 64 steps amortised); bound: central's "
          "full-duplex lower bound (gradients start coming in while later workers' weights still go out); "
          "MB/step: the busiest worker's bytes out and the coordinator's in + out per step, from the links' "
          "counters (close to payload: GSO packets count their headers once) against the model's payload; "
          "g seen: bytes per gradient value those counters imply (ring: its busiest member), and the model "
          "with that g in place of GRADIENT_BYTES")
    if any(c.get("disturbed") for c in cells):
        print("* a worker was lost, expelled or rejected, a ring broke or stalled, or a message was rejected during this cell")
    if any(c.get("workers_per_host", 1) > 1 for c in cells):
        print("With several workers a host the model's ring is the two-level one (a host's link carries (H-1)/H of "
              "(g + w)P each way, H hosts) and ring-flat the one ring of all N; no link is a worker's own, so worker "
              "out and g seen are left blank (the next table has each host's link)")
    ddp_cells = [] if skipped else [json.loads(l) for l in open(ddp_path) if l.strip()]
    host_links = across_hosts(cells, ddp_cells)
    over_ddp = against_ddp(cells, ddp_cells, skipped)
    print(json.dumps({"parameters": P, "flops_per_sample": F, "shard_size": S,
                      "rc_gflops": compute["mlp_shard_gflops"], "blas_kernels": compute.get("blas_kernels"),
                      "links": links, "cells": cells, "ddp": None if skipped else ddp_cells, "ddp_skipped": skipped,
                      "host_links": host_links,
                      "over_ddp": over_ddp, "goal_over_ddp": GOAL_OVER_DDP,
                      "goal_met": None if skipped else all(row["met"] for row in over_ddp),
                      "models_identical": all(row["models"] == "identical" for row in over_ddp),
                      "wall_seconds": int(wall)}))


if __name__ == "__main__":
    main()
