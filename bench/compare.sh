#!/usr/bin/env bash
# Runs the .NET benchmark and the PyTorch peer one after the other on the same machine and data, and
# prints ours / PyTorch for each shared measure. Timings on shared machines compare only within one run.
#   bash bench/compare.sh [epochs]          (needs data/mnist: bash data/get-mnist.sh; and python3-torch)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs="${1:-20}"
python=/usr/bin/python3
"$python" -c "import torch" 2>/dev/null || { echo "compare.sh: the PyTorch peer needs Debian's python3-torch (apt-get install python3-torch)" >&2; exit 1; }
[ -f data/mnist/train-images-idx3-ubyte ] || [ -f data/mnist/train-images-idx3-ubyte.gz ] || { echo "compare.sh: MNIST is not in data/mnist: run bash data/get-mnist.sh" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dotnet build -c Release bench/LeNet.TorchSharp.Bench >/dev/null
batch="$(dotnet bench/LeNet.TorchSharp.Bench/bin/Release/net10.0/LeNet.TorchSharp.Bench.dll --print-batch-size)"

echo "== LeNet.TorchSharp (TorchSharp $(sed -n 's/.*"TorchSharp" Version="\([^"]*\)".*/\1/p' Directory.Packages.props))"
dotnet bench/LeNet.TorchSharp.Bench/bin/Release/net10.0/LeNet.TorchSharp.Bench.dll --epochs "$epochs" --json "$work/ours.json"
echo
echo "== PyTorch peer ($("$python" -c 'import torch; print(torch.__version__)'), batch $batch)"
"$python" bench/pytorch_peer.py --epochs "$epochs" --batch-size "$batch" --json "$work/peer.json"
echo
"$python" - "$work/ours.json" "$work/peer.json" <<'PY'
import json, sys
ours, peer = (json.load(open(p)) for p in sys.argv[1:3])
rows = [("lenet_epoch_s", "LeNet training epoch, s (median)", "lower"), ("lenet_epoch_best_s", "LeNet training epoch, s (fastest)", "lower"),
        ("mlp_epoch_s", "MLP training epoch, s (median)", "lower"), ("mlp_epoch_best_s", "MLP training epoch, s (fastest)", "lower"),
        ("lenet_eval_samples_per_s", "LeNet evaluation, samples/s", "higher"), ("lenet_peak_rss_mb", "LeNet run peak RSS, MB", "lower")]
print("| measure | LeNet.TorchSharp | PyTorch | ours / PyTorch | speed-up |")
print("|---|---|---|---|---|")
for key, label, better in rows:
    o, p = ours[key], peer[key]
    speedup = p / o if better == "lower" else o / p
    print(f"| {label} | {o:,.3f} | {p:,.3f} | {o / p:.2f} | {speedup:.2f}x |")
PY
