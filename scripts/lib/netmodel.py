#!/usr/bin/env python3
"""The cost model of docs/performance.md against scripts/netbench.sh's cells.

  netmodel.py COMPUTE_JSON LINKS_JSONL CELLS_JSONL WALL_SECONDS

Prints the table, then one JSON line. Symbols as in docs/performance.md:
P parameters, N workers (A of them busy), B global batch, S shard size,
F FLOPs per sample, R_c one worker's compute rate, beta link goodput,
alpha one-way latency.
"""
import json
import math
import sys

LAYERS = [784, 512, 256, 10]
S = 32                  # micro-shard size
WEIGHT_BYTES = 4        # Float32 weights, coordinator -> each busy worker
# Fixed-point gradient sum, each busy worker -> coordinator, packed in blocks
# of 0, 4 or 8 bytes a value (PackedInt64s): measured on Fashion-MNIST sums,
# ~5.9 bytes a value in the first steps and ~4.0 after a hundred; 4.2 overall.
GRADIENT_BYTES = 4.2
SAMPLE_BYTES = 784 + 1  # UInt8 pixels and label

pairs = list(zip(LAYERS, LAYERS[1:]))
P = sum(i * o + o for i, o in pairs)
W = sum(i * o for i, o in pairs)
# Forward 2W, weight gradients 2W, input gradients 2W except the first layer's.
F = 4 * W + 2 * (W - LAYERS[0] * LAYERS[1])


def central(n, b, rc, beta, alpha):
    """Seconds of one step, the share of it outside gradient computation, and
    the step's lower bound if the coordinator's link overlapped perfectly."""
    shards = math.ceil(b / S)
    busy = min(n, shards)
    compute = math.ceil(shards / busy) * S * F / rc
    link = (busy * (WEIGHT_BYTES + GRADIENT_BYTES) * P + b * SAMPLE_BYTES) / beta
    step = compute + link + 2 * alpha
    # Full duplex: gradients may start coming in once the first worker has its
    # weights, while the others' weights still go out.
    pipelined = compute + (WEIGHT_BYTES * P + busy * GRADIENT_BYTES * P + b * SAMPLE_BYTES) / beta + 2 * alpha
    return step, 1 - compute / step, pipelined


def ring(n, b, rc, beta, alpha):
    """Reduce-scatter of gradients, sharded update, all-gather of weights (not built yet)."""
    shards = math.ceil(b / S)
    compute = math.ceil(shards / min(n, shards)) * S * F / rc
    link = (n - 1) / n * (GRADIENT_BYTES + WEIGHT_BYTES) * P / beta + b * SAMPLE_BYTES / beta
    step = compute + link + 2 * (n - 1) * alpha
    return step, 1 - compute / step


def main():
    compute_json, links_path, cells_path, wall = sys.argv[1:]
    compute = json.loads(compute_json)
    rc = compute["mlp_shard_gflops"] * 1e9
    links = {l["rate"]: l["link"] for l in map(json.loads, open(links_path)) if l}
    cells = [json.loads(l) for l in open(cells_path) if l.strip()]

    print(f"P = {P:,} parameters, F = {F:,} FLOP/sample ({F / P:.2f} P), S = {S}, "
          f"R_c = {rc / 1e9:.1f} GFLOP/s (mlp_shard_gflops, one thread)")
    for rate, link in links.items():
        print(f"{rate}: one TCP flow through the shaped path {link['mbit_per_s']:.0f} Mbit/s (beta), "
              f"round trip {link['rtt_us_median']:.0f} us (2 alpha)")
    header = ("rate", "N", "busy", "B", "steps", "samples/s", "predicted", "meas/pred",
              "comm", "pred comm", "step ms", "pred ms", "bound ms", "ring pred samples/s")
    rows = [header]
    for cell in cells:
        rate, n, b = cell["rate"], cell["workers"], cell["batch"]
        link = links[rate]
        beta = link["mbit_per_s"] * 1e6 / 8
        alpha = link["rtt_us_median"] / 2 * 1e-6
        step, comm, pipelined = central(n, b, rc, beta, alpha)
        ring_step, ring_comm = ring(n, b, rc, beta, alpha)
        cell.update(busy=min(n, math.ceil(b / S)), predicted_samples_per_second=round(b / step, 1),
                    predicted_comm_fraction=round(comm, 4), predicted_step_ms=round(step * 1e3, 2),
                    pipelined_bound_step_ms=round(pipelined * 1e3, 2),
                    ring_predicted_samples_per_second=round(b / ring_step, 1),
                    ring_predicted_comm_fraction=round(ring_comm, 4))
        if cell.get("failed"):
            measured = ("failed", "", "", "", "", "")
        else:
            sps = cell["samples_per_second"]
            cell["step_ms"] = round(b / sps * 1e3, 2)
            frac = cell.get("comm_fraction")
            measured = (f"{sps:,.0f}", f"{b / step:,.0f}", f"{sps * step / b:.2f}",
                        "" if frac is None else f"{frac:.3f}", f"{comm:.3f}", f"{cell['step_ms']:,.1f}")
            if cell.get("disturbed"):
                measured = (measured[0] + "*",) + measured[1:]
        rows.append((rate, str(n), str(cell["busy"]), str(b), str(cell.get("steps", "")), measured[0],
                     measured[1], measured[2], measured[3], measured[4], measured[5], f"{step * 1e3:,.1f}",
                     f"{pipelined * 1e3:,.1f}", f"{b / ring_step:,.0f} (not built yet)"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(value.rjust(width) for value, width in zip(row, widths)))
    print("pred: the model's sequential step; bound: its full-duplex lower bound (gradients start coming in "
          "while later workers' weights still go out); ring: docs/performance.md's model, not built yet")
    if any(c.get("disturbed") for c in cells):
        print("* the coordinator logged a lost, expelled or rejected worker during this cell")
    print(json.dumps({"parameters": P, "flops_per_sample": F, "shard_size": S,
                      "rc_gflops": compute["mlp_shard_gflops"], "blas_kernels": compute.get("blas_kernels"),
                      "links": links, "cells": cells, "wall_seconds": int(wall)}))


if __name__ == "__main__":
    main()
