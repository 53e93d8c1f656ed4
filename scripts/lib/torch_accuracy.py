#!/usr/bin/env python3
"""Loads a dptrain model.safetensors into PyTorch's nn.Sequential, as the
README shows, and prints its accuracy on a data set's t10k images as JSON.

  torch_accuracy.py RUN_DIR/model.safetensors DATA_DIR
"""
import json
import sys

import numpy as np
import torch
from torch import nn
from safetensors import safe_open
from safetensors.torch import load_file

from idx import read_idx


# --- the README's snippet: model.safetensors into nn.Sequential ---
def load_dptrain(path):
    with safe_open(path, framework="pt") as f:
        meta = f.metadata()  # layers "784,128,10", activation "relu", ...
    sizes = [int(s) for s in meta["layers"].split(",")]
    activation = {"relu": nn.ReLU, "leaky-relu": lambda: nn.LeakyReLU(0.01),
                  "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[meta["activation"]]
    tensors = load_file(path)  # layers.{i}.weight [out, in], layers.{i}.bias [out]
    modules = []
    for i in range(len(sizes) - 1):
        linear = nn.Linear(sizes[i], sizes[i + 1])
        linear.load_state_dict({"weight": tensors[f"layers.{i}.weight"], "bias": tensors[f"layers.{i}.bias"]})
        modules.append(linear)
        if i < len(sizes) - 2:
            modules.append(activation())
    return nn.Sequential(*modules).eval()
# --- end of snippet; inputs are pixels / 255 as float32, [N, 784] ---


def main(path, data_dir):
    model = load_dptrain(path)
    images = read_idx(data_dir, "t10k-images-idx3-ubyte")
    labels = read_idx(data_dir, "t10k-labels-idx1-ubyte")
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32)) / 255
    with torch.no_grad():
        predicted = model(x).argmax(dim=1).numpy()
    print(json.dumps({"samples": len(labels), "accuracy": float((predicted == labels).mean()),
                      "model": str(model).replace("\n", " ")}))


if __name__ == "__main__":
    main(*sys.argv[1:])
