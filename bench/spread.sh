#!/usr/bin/env bash
# Is a process-to-process spread the program's or the machine's? Two fresh processes of the same program train
# LeNet side by side, one thread each, A pinned to CPU 0 and B to CPU 1, and every few seconds they swap CPUs.
# If an epoch's time follows the CPU it ran on (both processes slow on the same CPU, fast on the other), the
# machine is slower on that CPU; if one process stays slower than the other on both CPUs, the cause is in that
# process: the report gives by how much, for each pair. Rounds of ours, then of the PyTorch peer (run as compare.sh runs it).
#   bash bench/spread.sh [rounds, default 3] [LeNet epochs a process, default 10] [seconds between swaps, default 12]
# (needs data/mnist, 2 CPUs or more, taskset; installs the peer, Debian's python3-torch on OpenBLAS, when run as root)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
epochs="${2:-10}"
every="${3:-12}"
source bench/common.sh

cpus="$(nproc)"
[ "$cpus" -ge 2 ] || { echo "spread.sh: needs 2 CPUs (one process on each); this machine has $cpus" >&2; exit 1; }
command -v taskset >/dev/null || { echo "spread.sh: needs taskset (Debian: apt-get install util-linux)" >&2; exit 1; }
require_peer spread.sh
require_mnist spread.sh

work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
build_harness
echo "== $cpus CPUs, ${cpu:-unknown CPU}, $(date -u '+%Y-%m-%d %H:%M UTC'): $rounds rounds; in each, two processes of ours, then" \
  "two of the peer's, side by side on CPUs 0 and 1, one thread each, $epochs LeNet epochs, batch $batch, swapping CPUs every $every s"

# Each epoch line gets the time it was printed (the end of that epoch), the side, the round and the process.
stamp() { while IFS= read -r line; do case "$line" in *"epoch "*s*) echo "$(date +%s.%N) $1 $2 $3 $line" >>"$work/log";; esac; done; }
start() {  # side round process cpu: starts one process pinned to the CPU ($! is its PID)
  if [ "$1" = ours ]; then
    OMP_NUM_THREADS=1 taskset -c "$4" dotnet "$bench" --phases lenet --epochs "$epochs" > >(stamp "$1" "$2" "$3") 2>&1 &
  else
    env "${peer_env[@]}" taskset -c "$4" "$python" bench/pytorch_peer.py --threads 1 --models lenet --epochs "$epochs" \
      --batch-size "$batch" > >(stamp "$1" "$2" "$3") 2>&1 &
  fi
}
pin() {  # pid cpu: the process, its children (our harness trains in a child) and all their threads
  local p
  for p in "$1" $(pgrep -P "$1" || true); do taskset -a -p -c "$2" "$p" >/dev/null 2>&1 || true; done
}
for round in $(seq 1 "$rounds"); do
  for side in ours peer; do
    start "$side" "$round" A 0
    a=$!
    start "$side" "$round" B 1
    b=$!
    cpu_a=0
    while kill -0 "$a" 2>/dev/null || kill -0 "$b" 2>/dev/null; do
      sleep "$every"
      cpu_a=$((1 - cpu_a))
      pin "$a" "$cpu_a"
      pin "$b" $((1 - cpu_a))
      echo "$(date +%s.%N) pin $side $round A $cpu_a B $((1 - cpu_a))" >>"$work/log"
    done
    wait "$a" || { echo "spread.sh: $side process A of round $round failed" >&2; exit 1; }
    wait "$b" || { echo "spread.sh: $side process B of round $round failed" >&2; exit 1; }
  done
  echo "   round $round done"
done
sleep 1  # the last lines' readers

"$python" - "$work/log" "$cpu" "$every" <<'PY'
import re, statistics as st, sys
log, cpu, every = sys.argv[1], sys.argv[2], sys.argv[3]
pins, epochs = {}, []
for line in open(log):
    m = re.match(r"(\S+) pin (\w+) (\d+) A (\d) B (\d)", line)
    if m:
        pins.setdefault((m[2], int(m[3])), []).append((float(m[1]), {"A": int(m[4]), "B": int(m[5])}))
        continue
    m = re.match(r"(\S+) (ours|peer) (\d+) ([AB]) .*epoch (\d+): ([0-9.]+)s", line)
    if m and int(m[5]) > 1:  # the first epoch of a process also warms it up
        epochs.append((float(m[1]), m[2], int(m[3]), m[4], float(m[6])))
def cpu_of(side, rnd, proc, begin, end):
    """The CPU the process was pinned to for the whole epoch; None if it moved during it."""
    changes = pins.get((side, rnd), [])
    if any(begin < t < end for t, _ in changes):
        return None
    before = [p for t, p in changes if t <= begin]
    return before[-1][proc] if before else {"A": 0, "B": 1}[proc]
cells = {}
for end, side, rnd, proc, seconds in epochs:
    c = cpu_of(side, rnd, proc, end - seconds, end)
    if c is not None:
        cells.setdefault((side, rnd), {}).setdefault((proc, c), []).append(seconds)
print("\n| round | side | A on CPU 0 | B on CPU 0 | A on CPU 1 | B on CPU 1 | one process slower than the other on both CPUs | the same process on the two CPUs |")
print("|---|---|---|---|---|---|---|---|")
summary = {"ours": ([], []), "peer": ([], [])}
for (side, rnd), d in sorted(cells.items(), key=lambda kv: (kv[0][1], kv[0][0] != "ours")):
    med = {k: st.median(v) for k, v in d.items()}
    show = lambda k: f"{med[k]:.2f} ({len(d[k])})" if k in med else "-"
    # A cause inside a process slows it on every CPU: A/B above 1 on both CPUs (or below on both); by the smaller of
    # the two. A CPU slower in some of its turns than in others moves the ratio on that CPU only.
    ratios = [med[("A", c)] / med[("B", c)] for c in (0, 1) if ("A", c) in med and ("B", c) in med]
    process = None
    if len(ratios) == 2:
        process = min(abs(r - 1) for r in ratios) if (ratios[0] - 1) * (ratios[1] - 1) > 0 else 0.0
        summary[side][0].append(process)
    cpus = [abs(med[(p, 0)] - med[(p, 1)]) / ((med[(p, 0)] + med[(p, 1)]) / 2) for p in "AB" if (p, 0) in med and (p, 1) in med]
    summary[side][1].extend(cpus)
    slower = "-" if process is None else "no" if process == 0 else f"{'A' if ratios[0] > 1 else 'B'} by {process:.1%}"
    across = f"up to {max(cpus):.1%}" if cpus else "-"
    print(f"| {rnd} | {side} | {show(('A', 0))} | {show(('B', 0))} | {show(('A', 1))} | {show(('B', 1))} | {slower} | {across} |")
print()
for side, (process, cpus) in summary.items():
    if process and cpus:
        print(f"{side}: one process slower than its sibling on both CPUs by at most {max(process):.1%} ({len(process)} pairs); "
              f"the same process on the two CPUs differs by up to {max(cpus):.1%} (median {st.median(cpus):.1%}).")
print(f"\nCPU: {cpu}. Epochs after each process's first, medians per process and CPU (epochs counted in brackets); an "
      f"epoch during which its process moved is left out. CPUs swapped every {every} s.")
PY
