#!/usr/bin/env python3
"""The PyTorch peer of the .NET benchmark: the identical loop on the identical data.

Same MNIST files, same preprocessing (28x28 bytes resized once to 32x32 with bilinear interpolation and
rounded back to bytes; floats and normalization per batch), same LeNet and MLP, same optimizer and
batch size, same loss read-back every 50 steps, evaluation in batches of 256 (the trainer program's), 2 threads. Prints one JSON line of measurements, with the BLAS library
the process actually loaded: PyTorch at its best here runs on OpenBLAS (libopenblas0-pthread) with
OPENBLAS_NUM_THREADS=1, so that BLAS threads do not fight torch's own two, and with the glibc malloc
thresholds the .NET side sets for itself (NativeHeap.RetainFreedMemory), given here through glibc's
environment variables; bench/compare.sh sets all of this up.

    OPENBLAS_NUM_THREADS=1 MALLOC_TRIM_THRESHOLD_=67108864 MALLOC_MMAP_THRESHOLD_=33554432 \
      /usr/bin/python3 bench/pytorch_peer.py --data data/mnist --epochs 10 --batch-size 64 [--json out.json]
(Debian: apt-get install python3-torch libopenblas0-pthread)
"""
import argparse, gzip, json, os, resource, statistics, struct, time

import torch
import torch.nn as nn
import torch.nn.functional as F

from tutorial_nets import Mlp, Net as LeNet


def read_idx(root, name):
    path = os.path.join(root, name)
    opener = open if os.path.exists(path) else gzip.open
    with opener(path if os.path.exists(path) else path + ".gz", "rb") as f:
        magic, = struct.unpack(">i", f.read(4))
        dims = struct.unpack(">" + "i" * (magic & 0xFF), f.read(4 * (magic & 0xFF)))
        return torch.frombuffer(bytearray(f.read()), dtype=torch.uint8).reshape(dims)


def load(root, train, size):
    prefix = "train" if train else "t10k"
    images = read_idx(root, f"{prefix}-images-idx3-ubyte").unsqueeze(1)
    labels = read_idx(root, f"{prefix}-labels-idx1-ubyte").long()
    if size != 28:
        chunks = []
        for start in range(0, len(images), 2000):
            x = F.interpolate(images[start:start + 2000].float(), size=(size, size), mode="bilinear", align_corners=False)
            chunks.append(x.round_().clamp_(0, 255).to(torch.uint8))
        images = torch.cat(chunks)
    return images, labels


MEAN, STD = 0.1307, 0.3081


def blas_libraries():
    """The BLAS libraries mapped into this process, as real paths (read after torch has run a matmul)."""
    paths = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            parts = line.split()
            if len(parts) >= 6 and "blas" in os.path.basename(parts[5]):
                paths.add(os.path.realpath(parts[5]))
    return sorted(paths)


def malloc_thresholds():
    """glibc's trim and mmap thresholds as this process was started with ("default" when not set)."""
    trim, mmap = (os.environ.get(name) for name in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"))
    return f"{trim}/{mmap}" if trim or mmap else "default"


def blas_kind(paths):
    """openblas, reference (netlib's unoptimised BLAS, Debian's default without OpenBLAS), or what was found."""
    if any("openblas" in p for p in paths):
        return "openblas"
    if any("/blas/" in p for p in paths):
        return "reference"
    return ";".join(paths) or "none"


def to_float(images):
    return (images.float().div_(255) - MEAN) / STD


def train_epoch(model, optimizer, images, labels, batch_size, generator):
    model.train()
    criterion = nn.CrossEntropyLoss()
    loss_sum = torch.zeros(1, dtype=torch.float64)
    start = time.perf_counter()
    order = torch.randperm(len(labels), generator=generator)
    for step, begin in enumerate(range(0, len(labels), batch_size), 1):
        idx = order[begin:begin + batch_size]
        x, y = to_float(images.index_select(0, idx)), labels.index_select(0, idx)
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        loss_sum.add_(loss.detach(), alpha=len(idx))
        if step % 50 == 0:
            loss_sum.item()
    loss_sum.item()
    return time.perf_counter() - start


def evaluate(model, images, labels, batch_size=256):
    model.eval()
    start = time.perf_counter()
    with torch.no_grad():
        for begin in range(0, len(labels), batch_size):
            model(to_float(images[begin:begin + batch_size])).argmax(1).eq(labels[begin:begin + batch_size]).sum().item()
    return len(labels) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="data/mnist")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--json", default="")
    parser.add_argument("--threads", type=int, default=2, help="torch's intra-op threads (bench/spread.sh runs one)")
    parser.add_argument("--models", default="lenet,mlp", help="which of the two to train: lenet, mlp or both")
    parser.add_argument("--check-blas", action="store_true", help="only report the BLAS; fail unless it is OpenBLAS with one thread")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    results = {}
    torch.mm(torch.randn(64, 64), torch.randn(64, 64))
    blas = blas_libraries()
    print(f"    BLAS: {blas_kind(blas)} ({', '.join(blas) or 'no BLAS library mapped'}), "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, torch threads {torch.get_num_threads()}, "
          f"malloc trim/mmap thresholds {malloc_thresholds()}", flush=True)
    if args.check_blas:
        fair = blas_kind(blas) == "openblas" and os.environ.get("OPENBLAS_NUM_THREADS") == "1"
        if not fair:
            raise SystemExit("pytorch_peer.py: not PyTorch at its best: expected OpenBLAS with OPENBLAS_NUM_THREADS=1")
        return

    models = args.models.split(",")
    if not models or set(models) - {"lenet", "mlp"}:
        parser.error(f"--models: expected lenet, mlp or lenet,mlp; found '{args.models}'")
    # One shuffling generator for both runs, the MLP's continuing where LeNet's left it.
    generator = torch.Generator().manual_seed(1)
    if "lenet" in models:
        lenet_run(args, generator, results)
    if "mlp" in models:
        mlp_run(args, generator, results)
    results["torch_version"] = float(".".join(torch.__version__.split(".")[:2]))
    results["blas"] = blas_kind(blas)
    results["openblas_threads"] = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    results["malloc_thresholds"] = malloc_thresholds()

    line = json.dumps(results)
    print(line)
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            f.write(line)
        os.replace(args.json + ".tmp", args.json)


def lenet_run(args, generator, results):
    images, labels = load(args.data, True, 32)
    test_images, test_labels = load(args.data, False, 32)
    model = LeNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True)
    epochs = []
    for epoch in range(args.epochs):
        epochs.append(train_epoch(model, optimizer, images, labels, args.batch_size, generator))
        print(f"    LeNet epoch {epoch + 1}: {epochs[-1]:.2f}s", flush=True)
    results["lenet_epoch_s"] = statistics.median(epochs)
    results["lenet_epoch_best_s"] = min(epochs)
    results["lenet_train_samples_per_s"] = len(labels) / statistics.median(epochs)
    results["lenet_eval_samples_per_s"] = max(evaluate(model, test_images, test_labels) for _ in range(3))
    results["lenet_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mlp_run(args, generator, results):
    images, labels = load(args.data, True, 28)
    model = Mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True)
    epochs = [train_epoch(model, optimizer, images, labels, args.batch_size, generator) for _ in range(10)]
    results["mlp_epoch_s"] = statistics.median(epochs)
    results["mlp_epoch_best_s"] = min(epochs)
    results["mlp_train_samples_per_s"] = len(labels) / statistics.median(epochs)


if __name__ == "__main__":
    main()
