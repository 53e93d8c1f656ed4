#!/usr/bin/env python3
"""Runs an ONNX model exported by `dptrain export` with onnxruntime on a data
set's t10k images and compares it with `dptrain evaluate --predictions`.

  onnx_check.py MODEL.onnx DATA_DIR PREDICTIONS.csv

First the ONNX project's own checker (with shape inference) must accept the
file. Prints one JSON object: samples, disagreements (images whose class differs),
max_probability_difference, accuracy (onnxruntime's, against the labels).
"""
import csv
import json
import sys

import numpy as np
import onnx
import onnxruntime

from idx import read_idx


def main(model, data_dir, predictions_csv):
    images = read_idx(data_dir, "t10k-images-idx3-ubyte")
    labels = read_idx(data_dir, "t10k-labels-idx1-ubyte")
    pixels = images.reshape(len(images), -1).astype(np.float32)  # raw 0-255: the graph scales them

    onnx.checker.check_model(onnx.load(model), full_check=True)  # raises, so the script fails, if invalid
    session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    probabilities, logits = session.run(["probabilities", "logits"], {"pixels": pixels})
    predicted = logits.argmax(axis=1)

    with open(predictions_csv) as f:
        rows = list(csv.DictReader(f))
    theirs = np.array([int(row["predicted"]) for row in rows])
    their_probabilities = np.array([[float(row[f"p{j}"]) for j in range(probabilities.shape[1])] for row in rows],
                                   dtype=np.float64)
    print(json.dumps({
        "samples": len(rows),
        "disagreements": int((predicted != theirs).sum()),
        "max_probability_difference": float(np.abs(probabilities.astype(np.float64) - their_probabilities).max()),
        "accuracy": float((predicted == labels).mean()),
        "probability_sums_off_by": float(np.abs(probabilities.sum(axis=1) - 1).max()),
    }))


if __name__ == "__main__":
    main(*sys.argv[1:])
