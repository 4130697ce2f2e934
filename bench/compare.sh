#!/usr/bin/env bash
# Runs the .NET benchmark and the PyTorch peer one after the other on the same machine and data, and prints
# ours / PyTorch for each shared measure. Timings on shared machines compare only within one run.
#   bash bench/compare.sh [epochs]          (needs data/mnist: bash data/get-mnist.sh)
# The peer is PyTorch at its best here: Debian's python3-torch on OpenBLAS (libopenblas0-pthread) with one
# BLAS thread beside torch's two, and with the glibc malloc thresholds the .NET side sets for itself
# (NativeHeap.RetainFreedMemory: the peer gains from them too). Without OpenBLAS, Debian's PyTorch runs on the
# reference BLAS, several times slower: no ratio is reported against that.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs="${1:-20}"
python=/usr/bin/python3

missing=()
"$python" -c "import torch" 2>/dev/null || missing+=(python3-torch)
dpkg-query -W -f='${Status}' libopenblas0-pthread 2>/dev/null | grep -q "ok installed" || missing+=(libopenblas0-pthread)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "compare.sh: installing the PyTorch peer: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "compare.sh: the PyTorch peer needs: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
[ -f data/mnist/train-images-idx3-ubyte ] || [ -f data/mnist/train-images-idx3-ubyte.gz ] || { echo "compare.sh: MNIST is not in data/mnist: run bash data/get-mnist.sh" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dotnet build -c Release bench/LeNet.TorchSharp.Bench >/dev/null
bench=bench/LeNet.TorchSharp.Bench/bin/Release/net10.0/LeNet.TorchSharp.Bench.dll
batch="$(dotnet "$bench" --print-batch-size)"

echo "== machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "== LeNet.TorchSharp (TorchSharp $(sed -n 's/.*"TorchSharp" Version="\([^"]*\)".*/\1/p' Directory.Packages.props))"
dotnet "$bench" --epochs "$epochs" --json "$work/ours.json"
echo
# The same values as src/LeNet.TorchSharp/Native/NativeHeap.cs: 64 MB and 32 MB.
malloc=(MALLOC_TRIM_THRESHOLD_=67108864 MALLOC_MMAP_THRESHOLD_=33554432)
echo "== PyTorch peer ($("$python" -c 'import torch; print(torch.__version__)'), batch $batch, OPENBLAS_NUM_THREADS=1, ${malloc[*]})"
env OPENBLAS_NUM_THREADS=1 "${malloc[@]}" "$python" bench/pytorch_peer.py --epochs "$epochs" --batch-size "$batch" --json "$work/peer.json"
echo
"$python" - "$work/ours.json" "$work/peer.json" <<'PY'
import json, sys
ours, peer = (json.load(open(p)) for p in sys.argv[1:3])
if peer.get("blas") != "openblas" or peer.get("openblas_threads") != "1":
    sys.exit(f"compare.sh: the peer ran on BLAS '{peer.get('blas')}' with OPENBLAS_NUM_THREADS={peer.get('openblas_threads')}; "
             "a ratio is only honest against OpenBLAS with 1 thread (apt-get install libopenblas0-pthread)")
if peer.get("malloc_thresholds") != "67108864/33554432":
    sys.exit(f"compare.sh: the peer ran with malloc thresholds {peer.get('malloc_thresholds')}, not the ones the .NET side uses")
rows = [("lenet_epoch_s", "LeNet training epoch, s (median)", "lower"), ("lenet_epoch_best_s", "LeNet training epoch, s (fastest)", "lower"),
        ("mlp_epoch_s", "MLP training epoch, s (median)", "lower"), ("mlp_epoch_best_s", "MLP training epoch, s (fastest)", "lower"),
        ("lenet_eval_samples_per_s", "LeNet evaluation, samples/s", "higher"), ("lenet_peak_rss_mb", "LeNet run peak RSS, MB", "lower")]
print(f"| measure | LeNet.TorchSharp | PyTorch {peer['torch_version']} (OpenBLAS, 1 BLAS thread, same malloc thresholds) | speed-up |")
print("|---|---|---|---|")
for key, label, better in rows:
    o, p = ours[key], peer[key]
    speedup = p / o if better == "lower" else o / p
    print(f"| {label} | {o:,.3f} | {p:,.3f} | {speedup:.2f}x |")
PY
