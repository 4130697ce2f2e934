#!/usr/bin/env bash
# examples/DigitWeb under load, for weights on libtorch and for the same model exported to ONNX: requests per second
# and p50/p95 latency at 1, 8 and 64 concurrent clients, the server's RSS at rest and under load, and its RSS over
# 10,000 more requests (bench/WebLoad, against localhost only; it stops by itself).
#   bash bench/web.sh [requests per level, default 2000]
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${1:-2000}"
work="$(mktemp -d)"
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

bash data/get-mnist.sh >/dev/null
echo "CPU: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
dotnet build -c Release examples/DigitWeb >/dev/null
dotnet build -c Release bench/WebLoad >/dev/null
dotnet run -c Release --project examples/TrainMnist -- --epochs 1 --no-plots --no-download --quiet --out "$work/run" \
  --save "$work/model.onnx" >/dev/null

for model in "$work/run/model.safetensors" "$work/model.onnx"; do
  dotnet examples/DigitWeb/bin/Release/net10.0/DigitWeb.dll --model "$model" --port 0 >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do grep -q '^Serving' "$work/server.log" && break; sleep 0.2; done
  url="$(sed -n 's/^Serving .* at \(http:[^ ]*\)\/ .*/\1/p' "$work/server.log")"
  echo
  head -1 "$work/server.log"
  dotnet bench/WebLoad/bin/Release/net10.0/WebLoad.dll --url "$url" --pid "$server" --mnist data/mnist --requests "$requests"
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=""
  if [ "$(wc -l <"$work/server.log")" -gt 1 ]; then echo "the server logged:"; cat "$work/server.log"; fi
done
