#!/usr/bin/env bash
# This library against the PyTorch peer, in pairs of fresh processes that run back to back on the same machine and
# data: ours then the peer's, then the peer's then ours (the order alternates, so that a machine getting faster or
# slower favours neither side), and so on. Each pair gives one ratio per measure; the report is the median ratio
# and its spread over the pairs, under a header naming the CPU. A single run of each side proves nothing on a
# shared machine: the same binary's LeNet epoch moves by a third from one process to the next.
#   bash bench/compare.sh [epochs per model, default 5] [pairs, default 5]   (needs data/mnist: bash data/get-mnist.sh)
# The peer is PyTorch at its best here: Debian's python3-torch on OpenBLAS (libopenblas0-pthread) with one
# BLAS thread beside torch's two, and with the glibc malloc thresholds the .NET side sets for itself
# (NativeHeap.RetainFreedMemory: the peer gains from them too). Without OpenBLAS, Debian's PyTorch runs on the
# reference BLAS, several times slower: no ratio is reported against that.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs="${1:-5}"
pairs="${2:-5}"
source bench/common.sh
require_peer compare.sh
require_mnist compare.sh

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
build_harness
echo "== $(nproc) cores, ${cpu:-unknown CPU}, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "== LeNet.TorchSharp (TorchSharp $(sed -n 's/.*"TorchSharp" Version="\([^"]*\)".*/\1/p' Directory.Packages.props)) against" \
  "PyTorch $("$python" -c 'import torch; print(torch.__version__)') (OpenBLAS, OPENBLAS_NUM_THREADS=1, ${malloc[*]}):" \
  "batch $batch, $epochs LeNet epochs and 10 MLP epochs a process, $pairs pairs of fresh processes"

ours() { dotnet "$bench" --phases lenet,mlp --epochs "$epochs" --json "$work/ours-$1.json" >"$work/ours-$1.log" 2>&1; }
peer() {
  env "${peer_env[@]}" "$python" bench/pytorch_peer.py --epochs "$epochs" --batch-size "$batch" \
    --json "$work/peer-$1.json" >"$work/peer-$1.log" 2>&1
}
for pair in $(seq 1 "$pairs"); do
  if [ $((pair % 2)) = 1 ]; then ours "$pair"; peer "$pair"; else peer "$pair"; ours "$pair"; fi
  echo "   pair $pair done"
done

"$python" - "$work" "$pairs" "$cpu" <<'PY'
import json, statistics, sys
work, pairs, cpu = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = [("lenet_epoch_s", "LeNet training epoch, s (median of the process's epochs)", "lower"),
        ("mlp_epoch_s", "MLP training epoch, s (median of the process's epochs)", "lower"),
        ("lenet_eval_samples_per_s", "LeNet evaluation, samples/s (batches of 256)", "higher"),
        ("lenet_peak_rss_mb", "LeNet run, peak RSS, MB", "lower")]
ours = [json.load(open(f"{work}/ours-{i}.json")) for i in range(1, pairs + 1)]
peer = [json.load(open(f"{work}/peer-{i}.json")) for i in range(1, pairs + 1)]
for p in peer:
    if p.get("blas") != "openblas" or p.get("openblas_threads") != "1":
        sys.exit(f"compare.sh: the peer ran on BLAS '{p.get('blas')}' with OPENBLAS_NUM_THREADS={p.get('openblas_threads')}; "
                 "a ratio is only honest against OpenBLAS with 1 thread (apt-get install libopenblas0-pthread)")
    if p.get("malloc_thresholds") != "67108864/33554432":
        sys.exit(f"compare.sh: the peer ran with malloc thresholds {p.get('malloc_thresholds')}, not the ones the .NET side uses")
print()
print("| measure | ours, per pair | peer, per pair | ratio per pair (ours faster or smaller by) | median ratio | spread |")
print("|---|---|---|---|---|---|")
for key, label, better in rows:
    o, p = [r[key] for r in ours], [r[key] for r in peer]
    ratios = [b / a if better == "lower" else a / b for a, b in zip(o, p)]
    fmt = (lambda v: f"{v:,.0f}") if max(o + p) >= 100 else (lambda v: f"{v:.3f}")
    print(f"| {label} | {' '.join(fmt(v) for v in o)} | {' '.join(fmt(v) for v in p)} | "
          f"{' '.join(f'{r:.2f}' for r in ratios)} | **{statistics.median(ratios):.2f}x** | {min(ratios):.2f}–{max(ratios):.2f} |")
# The harness measures a 1024x1024 fp32 matrix multiply in each of its processes: the machine's speed at that moment.
for key, label in [("matmul_peak_gflops", "LeNet"), ("mlp_matmul_peak_gflops", "MLP")]:
    probe = " ".join(f"{r[key]:.0f}" for r in ours)
    print(f"| the machine: fp32 matrix multiply in our {label} process, GFLOP/s | {probe} | | | | |")
print()
print("| spread from process to process, (slowest - fastest) / median | ours | peer |")
print("|---|---|---|")
for key, label, _ in rows[:3]:
    o, p = [r[key] for r in ours], [r[key] for r in peer]
    spread = lambda v: (max(v) - min(v)) / statistics.median(v)
    print(f"| {label} | {spread(o):.0%} | {spread(p):.0%} |")
print(f"\nCPU: {cpu}. Each pair ran back to back, alternating which side went first; a ratio compares only figures of one pair.")
PY
