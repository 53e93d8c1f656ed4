"""The recipe a dptrain preset names, trained in PyTorch for comparison
(scripts/bench-accuracy.sh). Same data files, layers, optimiser, dropout,
label smoothing, +-N pixel shifts with zero fill, batch, and a cosine
schedule advanced every step to zero, as dptrain's. Initial weights and data
order are PyTorch's own. Prints the final test accuracy on its last line."""
import argparse, gzip, math, os, struct, time

import torch
import torch.nn as nn
import torch.nn.functional as F


def idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def load(folder, prefix):
    def find(name):
        for candidate in (name, name + ".gz"):
            if os.path.exists(os.path.join(folder, candidate)):
                return os.path.join(folder, candidate)
        raise SystemExit(f"torch_recipe: no {name}[.gz] in {folder}")
    images = idx(find(f"{prefix}-images-idx3-ubyte")).float().div(255).reshape(-1, 784)
    labels = idx(find(f"{prefix}-labels-idx1-ubyte")).long()
    return images, labels


def shifted(x, n):
    """Each 28x28 image moved by up to n pixels each way, zeros coming in."""
    batch = x.shape[0]
    padded = F.pad(x.reshape(batch, 28, 28), (n, n, n, n))
    dx = torch.randint(0, 2 * n + 1, (batch,))
    dy = torch.randint(0, 2 * n + 1, (batch,))
    out = torch.stack([padded[i, dy[i]:dy[i] + 28, dx[i]:dx[i] + 28] for i in range(batch)])
    return out.reshape(batch, 784)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--test-data")
    p.add_argument("--layers", required=True)
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--dropout", type=float, default=0)
    p.add_argument("--label-smoothing", type=float, default=0)
    p.add_argument("--shift", type=int, default=0)
    p.add_argument("--epochs", type=int, required=True)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(1)
    train_x, train_y = load(a.data, "train")
    test_x, test_y = load(a.test_data or a.data, "t10k")
    sizes = [int(s) for s in a.layers.split(",")]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers += [nn.ReLU(), nn.Dropout(a.dropout)]
    model = nn.Sequential(*layers)
    optimiser = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    steps_per_epoch = math.ceil(len(train_y) / a.batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 0.5 * (1 + math.cos(math.pi * min(step / (a.epochs * steps_per_epoch), 1))))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=a.label_smoothing)
    started = time.time()
    for epoch in range(a.epochs):
        model.train()
        order = torch.randperm(len(train_y))
        for start in range(0, len(train_y), a.batch_size):
            batch = order[start:start + a.batch_size]
            x = train_x[batch]
            if a.shift:
                x = shifted(x, a.shift)
            optimiser.zero_grad()
            loss_fn(model(x), train_y[batch]).backward()
            optimiser.step()
            schedule.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(test_x).argmax(1) == test_y).float().mean().item()
        print(f"epoch {epoch + 1} test {accuracy:.4f} {time.time() - started:.1f}s", flush=True)
    print(f"{accuracy:.4f}")


if __name__ == "__main__":
    main()
