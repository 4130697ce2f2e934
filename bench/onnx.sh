#!/usr/bin/env bash
# Deploying an exported model: examples/OnnxInference (ONNX Runtime, no libtorch) against its twin on the library and
# libtorch (bench/LibTorchPredict), both published for linux-x64 and run as a user runs them, in fresh processes,
# alternating which goes first.
#   bash bench/onnx.sh [pairs, default 5]
# Prints the published size of each app, then per pair and as median (min–max): the time from process start to the
# first answer for one picture, the process's wall time and peak RSS, and on MNIST's test set the throughput at batch
# 256 and the latency at batch 1 (the apps' own report lines).
set -euo pipefail
cd "$(dirname "$0")/.."
pairs="${1:-5}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

bash data/get-mnist.sh >/dev/null
echo "CPU: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"

# A trained model in both forms, and a picture of a digit (BuildingNetworks draws one from MNIST's test set).
dotnet run -c Release --project examples/TrainMnist -- --epochs 1 --no-plots --no-download --quiet --out "$work/run" \
  --save "$work/model.onnx" >/dev/null
dotnet run -c Release --project examples/BuildingNetworks -- "$work/figures" >/dev/null
picture="$work/figures/digit.png"

dotnet publish examples/OnnxInference -c Release -r linux-x64 --self-contained false -o "$work/onnx" >/dev/null
dotnet publish bench/LibTorchPredict -c Release -r linux-x64 --self-contained false -o "$work/torch" >/dev/null
size() { du -sm "$1" | cut -f1; }
echo "published (framework-dependent, linux-x64): OnnxInference $(size "$work/onnx") MB, LibTorchPredict $(size "$work/torch") MB"

# One run: "<first answer s> <wall s> <peak RSS MB>".
one() {
  local app="$1" model="$2" out
  out="$( { /usr/bin/time -f 'time %e %M' "$work/$app/$3" --model "$model" --image "$picture"; } 2>&1 )"
  awk '/^first answer/ { f = $3 } /^time / { w = $2; r = $3 / 1024 } END { printf "%s %s %.0f\n", f, w, r }' <<<"$out"
}
# The test-set lines of one run: "<images/s at 256> <ms at batch 1> <accuracy %>".
testset() {
  "$work/$1/$3" --model "$2" --mnist data/mnist \
    | awk '/^MNIST test set/ { a = $(NF - 1); sub("%", "", a) }
           /batch 256:/ { gsub(",", "", $3); t = $3; for (i = 1; i <= NF; i++) if ($i == "ms") l = $(i - 1) }
           END { print t, l, a }'
}

declare -a onnx_runs torch_runs onnx_sets torch_sets
for ((i = 0; i < pairs; i++)); do
  if ((i % 2 == 0)); then
    torch_runs+=("$(one torch "$work/run/model.safetensors" LibTorchPredict)"); onnx_runs+=("$(one onnx "$work/model.onnx" OnnxInference)")
    torch_sets+=("$(testset torch "$work/run/model.safetensors" LibTorchPredict)"); onnx_sets+=("$(testset onnx "$work/model.onnx" OnnxInference)")
  else
    onnx_runs+=("$(one onnx "$work/model.onnx" OnnxInference)"); torch_runs+=("$(one torch "$work/run/model.safetensors" LibTorchPredict)")
    onnx_sets+=("$(testset onnx "$work/model.onnx" OnnxInference)"); torch_sets+=("$(testset torch "$work/run/model.safetensors" LibTorchPredict)")
  fi
done

# Median (min–max) of column $2 of the lines on stdin.
summary() {
  cut -d' ' -f"$1" | sort -g \
    | awk '{ v[NR] = $1 } END { n = NR; m = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2; printf "%s (%s–%s)", m, v[1], v[n] }'
}
row() {
  local label="$1" column="$2"; shift 2
  printf '| %s | %s | %s |\n' "$label" \
    "$(printf '%s\n' "${onnx_data[@]}" | summary "$column")" "$(printf '%s\n' "${torch_data[@]}" | summary "$column")"
}
echo
echo "| measure, median (min–max) of $pairs processes | ONNX Runtime (OnnxInference) | libtorch (LibTorchPredict) |"
echo "|---|---|---|"
onnx_data=("${onnx_runs[@]}"); torch_data=("${torch_runs[@]}")
row "first answer after process start, s" 1
row "process wall time, one picture, s" 2
row "peak RSS, one picture, MB" 3
onnx_data=("${onnx_sets[@]}"); torch_data=("${torch_sets[@]}")
row "MNIST test set, batch 256, images/s" 1
row "latency at batch 1, ms an image" 2
row "MNIST test accuracy, %" 3
