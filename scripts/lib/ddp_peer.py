"""PyTorch DistributedDataParallel (gloo) on a netbench cell: dptrain's peer
in scripts/netbench.sh. One process per rank, each started in its host's
network namespace (one rank a host, or --workers-per-host of them);
rendezvous through torch.distributed's env:// variables (MASTER_ADDR = rank
0's address, MASTER_PORT, RANK, WORLD_SIZE), and GLOO_SOCKET_IFNAME=eth0 so
gloo's pairs use the shaped link.

  ddp_peer.py --data DIR --batch-size B [--layers 784,512,256,10] [--lr 0.05] [--momentum 0.9] [--seed 1]

The cell's training as dptrain runs it: the layers with ReLU between them
(He-uniform weights, zero biases, as dptrain draws them, from torch's own
generator), cross-entropy, SGD with momentum, one epoch over the raw IDX
pair in DIR (netbench cuts exactly K·B samples), pixels scaled to [0, 1],
one compute thread per rank. DDP with its defaults: buckets, all-reduce
overlapping backward.

Shapes: B global batch, N ranks; step k's batch is samples
order[k·B, (k+1)·B) of a seeded permutation, and each rank computes a
contiguous slice of it, B/N samples (as even as possible when N does not
divide B). DDP averages the ranks' gradients, so each rank's loss is its
slice's summed loss times N/B: the average is the batch's mean gradient.

Timing, to compare with dptrain's samples_per_second (the epoch's samples
over the sum of its steps' times, the first step included): after DDP's
construction (which broadcasts rank 0's parameters) every rank waits at a
barrier, then times from just before its first step to just after its last
optimiser step, whose gradients' all-reduce finished inside backward. The
figure is K·B over the slowest rank's time. Two more: the same with DDP's
construction inside the time (from a barrier before it), as dptrain's
figure holds the ring's formation in its first step; and without the first
step. Rank 0 prints one JSON line.
"""
import argparse
import datetime
import json
import os
import struct
import time

import torch
import torch._dynamo  # noqa: F401  DDP's constructor would import it: seconds of start-up, not of construction
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel


def idx(path):
    """An uncompressed IDX file as a uint8 tensor of its shape."""
    with open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def mlp(sizes):
    layers = []
    for inputs, outputs in zip(sizes, sizes[1:]):
        layer = nn.Linear(inputs, outputs)
        bound = (6 / inputs) ** 0.5
        nn.init.uniform_(layer.weight, -bound, bound)
        nn.init.zeros_(layer.bias)
        layers += [layer, nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--batch-size", type=int, required=True)
    p.add_argument("--layers", default="784,512,256,10")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=float, default=300, help="seconds any collective may wait")
    a = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)

    pixels = idx(os.path.join(a.data, "train-images-idx3-ubyte")).reshape(-1, 784).float().div(255)
    labels = idx(os.path.join(a.data, "train-labels-idx1-ubyte")).long()
    batch = a.batch_size
    steps = len(labels) // batch
    if steps < 1:
        raise SystemExit(f"ddp_peer: {a.data} holds {len(labels)} samples, fewer than one batch of {batch}")

    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=a.timeout))
    rank, ranks = dist.get_rank(), dist.get_world_size()
    own = slice(batch * rank // ranks, batch * (rank + 1) // ranks)  # this rank's part of every batch
    dist.barrier()
    constructing = time.perf_counter()
    model = DistributedDataParallel(mlp([int(s) for s in a.layers.split(",")]))
    optimiser = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(a.seed))
    loss_sum, correct = torch.zeros(()), torch.zeros((), dtype=torch.long)

    dist.barrier()
    started = time.perf_counter()
    for step in range(steps):
        chosen = order[step * batch:(step + 1) * batch][own]
        x, y = pixels[chosen], labels[chosen]
        optimiser.zero_grad()
        logits = model(x)
        summed = F.cross_entropy(logits, y, reduction="sum")
        (summed * (ranks / batch)).backward()
        optimiser.step()
        if step == 0:
            first_step = time.perf_counter() - started
        loss_sum += summed.detach()
        correct += (logits.detach().argmax(1) == y).sum()
    ended = time.perf_counter()

    slowest = torch.tensor([ended - started, first_step, ended - constructing], dtype=torch.float64)
    dist.all_reduce(slowest, op=dist.ReduceOp.MAX)
    totals = torch.tensor([loss_sum.item(), float(correct.item())], dtype=torch.float64)
    dist.all_reduce(totals)
    if rank == 0:
        seconds, first_step, with_construction = slowest.tolist()
        samples = steps * batch
        print(json.dumps({
            "ranks": ranks, "batch": batch, "steps": steps,
            "samples_per_second": round(samples / seconds, 1),
            "samples_per_second_with_construction": round(samples / with_construction, 1),
            "samples_per_second_after_first_step": round((samples - batch) / (seconds - first_step), 1)
            if steps > 1 else None,
            "seconds": round(seconds, 4), "first_step_seconds": round(first_step, 4),
            "loss": round(totals[0].item() / samples, 6), "train_accuracy": round(totals[1].item() / samples, 6),
            "torch": torch.__version__,
            "timed": "slowest rank, first step's start to last step's end, after a barrier that follows DDP's "
                     "construction (its parameter broadcast); with_construction: from a barrier before it; "
                     "each rank reads its samples from its own disk"}), flush=True)
    # Leave together, DDP's reducer (which holds the process group) freed
    # first: freed after destroy_process_group, on return from main(), it
    # hung rank 1 once in 8 runs with rank 0 gone; this way 0 in 40.
    del model, optimiser
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
