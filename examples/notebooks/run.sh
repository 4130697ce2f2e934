#!/usr/bin/env bash
# Runs both tutorial notebooks headless, the way CI does, and checks their key outputs (check.py).
#   bash examples/notebooks/run.sh            run and check (nothing in the repository changes)
#   bash examples/notebooks/run.sh --update   also write the outputs into the committed notebooks
# Packs the library with README's command into examples/notebooks/packages (which nuget.config beside the
# notebooks names), installs the dotnet-repl tool if needed, runs the notebooks where they are, as a user opens
# them, and serves MNIST from data/mnist when it is there (bash data/get-mnist.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
tools="${XDG_CACHE_HOME:-$HOME/.cache}/lenet-torchsharp/tools"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

rm -rf "$here/packages"
(cd "$repo" && dotnet pack LeNet.TorchSharp.sln -c Release -o examples/notebooks/packages >/dev/null)
# Packages of this version restored by an earlier run would be taken from NuGet's cache instead.
packages="$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')"
rm -rf "$packages/lenet.torchsharp" "$packages/lenet.torchsharp.plots"

[ -x "$tools/dotnet-repl" ] || dotnet tool install --tool-path "$tools" dotnet-repl --version 0.3.259 >/dev/null

# The notebook downloads MNIST as torchvision would; offline, from a local mirror of the .gz files.
if [ -f "$repo/data/mnist/train-images-idx3-ubyte" ]; then
  mkdir -p "$work/mirror"
  for file in "$repo"/data/mnist/*-ubyte; do gzip -c "$file" > "$work/mirror/$(basename "$file").gz"; done
  export LENET_MNIST_MIRRORS="$work/mirror"
fi

mkdir -p "$work/out"
for notebook in NeuralNetworks BuildingNetworks; do
  echo "running $notebook.ipynb"
  (cd "$here" && DOTNET_ROLL_FORWARD=Major "$tools/dotnet-repl" --run "$notebook.ipynb" \
    --output-path "$work/out/$notebook.ipynb" --exit-after-run >"$work/$notebook.log" 2>&1) \
    || { cat "$work/$notebook.log" >&2; echo "run.sh: $notebook.ipynb failed (a cell raised an error)" >&2; }
done
/usr/bin/env python3 "$here/check.py" "$work/out/NeuralNetworks.ipynb" "$work/out/BuildingNetworks.ipynb"

if [ "${1:-}" = "--update" ]; then
  for notebook in NeuralNetworks BuildingNetworks; do
    /usr/bin/env python3 "$here/check.py" --clean "$work/out/$notebook.ipynb" "$here/$notebook.ipynb"
  done
  echo "outputs written into $here"
fi
