#!/usr/bin/python3
"""Times one training epoch of anybit-train's reference models with PyTorch on the CPU.

    python3 benchmarks/torch_epoch.py --model mlp|cnn --threads N --batch 128

Same architecture, initialisation family (Kaiming normal, zero biases, no conv bias before batch
norm), data (Fashion-MNIST pixels / 255, normalised with the training set's mean and standard
deviation), optimizer (Adam, lr 1e-3) and batch size as anybit-train. The epoch is timed the same
way: the training loop only (shuffled batches, forward, loss, backward, step), without loading
or evaluation. Prints one line "seconds <s>" last, after a summary; --json writes the result.
Needs Debian's python3-torch (and numpy); reads the IDX files with the standard library.
"""

import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
from torch import nn


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xFF
    if magic >> 8 != 0x08 or dims not in (1, 3):
        raise SystemExit(f"torch_epoch: {path} is not an unsigned-byte IDX file (magic {magic:#x})")
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(directory, name):
    for candidate in (os.path.join(directory, name), os.path.join(directory, name + ".gz")):
        if os.path.isfile(candidate):
            return candidate
    raise SystemExit(f"torch_epoch: {name} not found in {directory} (apt-get install dataset-fashion-mnist)")


def make_model(kind):
    if kind == "mlp":
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    else:
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 10))
    for m in model.modules():  # anybit's initialisation: He normal (fan_in, gain sqrt 2), zero bias
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=1, help="epochs to time (each is reported)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--json", help="write the result here")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    images = read_idx(find(args.data, "train-images-idx3-ubyte")).astype(np.float32) / 255.0
    labels = read_idx(find(args.data, "train-labels-idx1-ubyte")).astype(np.int64)
    mean, std = float(images.mean(dtype=np.float64)), float(images.std(dtype=np.float64))
    x = torch.from_numpy((images - mean) / std)
    x = x.reshape(-1, 784) if args.model == "mlp" else x.reshape(-1, 1, 28, 28)
    y = torch.from_numpy(labels)

    model = make_model(args.model)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    n = x.shape[0]
    epoch_seconds = []
    for epoch in range(args.epochs):
        order = torch.randperm(n)
        start = time.perf_counter()
        total_loss, correct = 0.0, 0
        for first in range(0, n, args.batch):
            index = order[first:first + args.batch]
            xb, yb = x[index], y[index]  # the same gather anybit's batch loader does
            optimizer.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(index)
            correct += int((logits.argmax(1) == yb).sum())
        epoch_seconds.append(time.perf_counter() - start)
        print(f"torch {torch.__version__} {args.model} epoch {epoch + 1}: {epoch_seconds[-1]:.3f} s, "
              f"train loss {total_loss / n:.4f}, acc {100.0 * correct / n:.2f}%, threads {torch.get_num_threads()}, "
              f"batch {args.batch}", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"model": args.model, "framework": f"torch {torch.__version__}", "threads": args.threads,
                       "batch": args.batch, "epoch_seconds": epoch_seconds}, f)
    print(f"seconds {min(epoch_seconds):.4f}")


if __name__ == "__main__":
    main()
