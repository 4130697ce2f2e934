# Sourced by compare.sh and spread.sh (from the repository's root): what both need to run this library's harness and
# the PyTorch peer the same way, so that the peer each script measures against is the same peer.
python=/usr/bin/python3
# The peer at its best: one OpenBLAS thread beside torch's own, and the glibc malloc thresholds the .NET side sets
# for itself (the same values as src/LeNet.TorchSharp/Native/NativeHeap.cs: 64 MB and 32 MB).
malloc=(MALLOC_TRIM_THRESHOLD_=67108864 MALLOC_MMAP_THRESHOLD_=33554432)
peer_env=(OPENBLAS_NUM_THREADS=1 "${malloc[@]}")

# require_peer SCRIPT: Debian's PyTorch on OpenBLAS, installed when run as root, else the command to install it;
# then the peer itself must report OpenBLAS with one thread (without it Debian's PyTorch runs on the reference BLAS,
# several times slower, and no figure against it is honest).
require_peer() {
  local missing=()
  "$python" -c "import torch" 2>/dev/null || missing+=(python3-torch)
  dpkg-query -W -f='${Status}' libopenblas0-pthread 2>/dev/null | grep -q "ok installed" || missing+=(libopenblas0-pthread)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "$1: installing the PyTorch peer: ${missing[*]}"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      echo "$1: the PyTorch peer needs: apt-get install ${missing[*]}" >&2
      exit 1
    fi
  fi
  env "${peer_env[@]}" "$python" bench/pytorch_peer.py --check-blas >/dev/null
}

# require_mnist SCRIPT: the MNIST files in data/mnist.
require_mnist() {
  [ -f data/mnist/train-images-idx3-ubyte ] || [ -f data/mnist/train-images-idx3-ubyte.gz ] ||
    { echo "$1: MNIST is not in data/mnist: run bash data/get-mnist.sh" >&2; exit 1; }
}

# build_harness: builds the harness and sets bench (its program), batch (the default recipe's batch size, which the
# peer is given too) and cpu (the CPU's model name, for the report's header).
build_harness() {
  dotnet build -c Release bench/LeNet.TorchSharp.Bench >/dev/null
  bench=bench/LeNet.TorchSharp.Bench/bin/Release/net10.0/LeNet.TorchSharp.Bench.dll
  batch="$(dotnet "$bench" --print-batch-size)"
  cpu="$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
}
