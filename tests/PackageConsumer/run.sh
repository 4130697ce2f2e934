#!/usr/bin/env bash
# The library as another .NET developer uses it: packed into a folder, referenced from a new console app
# created outside this repository together with the CPU backend, running Program.cs (beside this script)
# unchanged. Fails unless the app prints LeNet's summary, reads a PNG into a 28x28 digit and prints three finite losses.
#   bash tests/PackageConsumer/run.sh [feed folder]    (default: packs into a temporary folder)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# Temporary folders go when the script ends, however it ends (the app's build with libtorch is about 1 GB).
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
feed="${1:-$scratch/feed}"
mkdir -p "$feed"
version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$repo/Directory.Build.props")"
torchsharp="$(sed -n 's/.*"TorchSharp" Version="\([^"]*\)".*/\1/p' "$repo/Directory.Packages.props")"
backend="$(sed -n 's/.*"libtorch-cpu-linux-x64" Version="\([^"]*\)".*/\1/p' "$repo/Directory.Packages.props")"

# Every package under src/ (LeNet.TorchSharp depends on LeNet.TorchSharp.Digits).
dotnet pack "$repo/LeNet.TorchSharp.sln" -c Release -o "$feed" >/dev/null
# A package of this version restored before (an earlier run) would be taken from NuGet's cache instead.
rm -rf "$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')"/lenet.torchsharp*

app="$scratch/App"
dotnet new console -o "$app" >/dev/null
cat > "$app/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="lenet-torchsharp" value="$feed" />
  </packageSources>
</configuration>
XML
(cd "$app" && dotnet add package LeNet.TorchSharp --version "$version" >/dev/null \
  && dotnet add package libtorch-cpu-linux-x64 --version "$backend" >/dev/null)
cp "$here/Program.cs" "$app/Program.cs"
echo "consumer app: $app, removed at exit (LeNet.TorchSharp $version from $feed, TorchSharp $torchsharp, libtorch-cpu-linux-x64 $backend)"
output="$(cd "$app" && dotnet run)"
echo "$output"

grep -q '^LeNet($' <<<"$output" || { echo "run.sh: the app did not print LeNet's summary" >&2; exit 1; }
grep -q '^  (fc3): Linear(in_features=84, out_features=10, bias=True)$' <<<"$output" || { echo "run.sh: LeNet's summary lacks fc3" >&2; exit 1; }
grep -q '^digit \[1, 28, 28\]$' <<<"$output" || { echo "run.sh: the app did not read its PNG into a 1x28x28 digit" >&2; exit 1; }
tail -n 3 <<<"$output" | awk '
  { if ($0 !~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/ || $0 + 0 <= 0) { print "run.sh: not a finite positive loss: " $0 > "/dev/stderr"; bad = 1 } }
  END { if (NR != 3) { print "run.sh: expected three losses" > "/dev/stderr"; bad = 1 } exit bad }'
echo "package consumer: OK"
