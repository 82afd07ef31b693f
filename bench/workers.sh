#!/usr/bin/env bash
# bench/workers.sh BUILD_DIR -- what the worker machinery buys and costs.
#   1. 24 scenes that each sleep 0.3 s: --jobs 1 against --jobs 8 (speed-up).
#   2. 2000 no-op scenes: --jobs 2 (a fork, three pipes and a reap per scene)
#      against in-process, divided by the scenes: the per-scene overhead.
# Both runs of a pair write the same journal, so the difference is the workers.
# The no-op pair runs on tmpfs (/dev/shm, or $BENCH_TMPFS) when there is one:
# on a disk, the journal's two fdatasync calls a scene (1-2 ms each) would
# drown what is measured here.
set -eu
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/$BUILD/explainer
[ -x "$BIN" ] || { echo "bench/workers.sh: no $BIN (run make BUILD=$BUILD)" >&2; exit 2; }
TMP=$(mktemp -d)
FAST=${BENCH_TMPFS:-/dev/shm}
if [ -d "$FAST" ] && [ -w "$FAST" ]; then FAST=$(mktemp -d "$FAST/explainer-bench.XXXXXX"); else FAST=$TMP; fi
trap 'rm -rf "$TMP" "$FAST"' EXIT

script() { # script N FILE: N scenes
  { echo "# Bench - $1 SCENES"; echo
    for ((i = 1; i <= $1; i++)); do
      printf '## SCENE %d: Scene %d (6 seconds)\n\nNarration: "Scene %d."\n\n' "$i" "$i" "$i"
    done; } > "$2"
}
script 24 "$TMP/sleep.txt"
script 2000 "$TMP/noop.txt"
cat > "$TMP/sleep.lua" <<'LUA'
local core = require "explainer_core"
return { process_scene = function() core.sleep(0.3) end }
LUA
cat > "$TMP/noop.lua" <<'LUA'
return { process_scene = function() end }
LUA

now() { date +%s.%N; }
timed() { # timed OUTDIR ARGS... -> seconds of one run (every scene processed)
  local out=$1; shift
  rm -rf "$out"
  local t0 t1
  t0=$(now)
  "$BIN" "$@" --output-dir "$out" --quiet --no-skip >/dev/null
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}

j1=$(timed "$TMP/o1" "$TMP/sleep.lua" "$TMP/sleep.txt" --jobs 1)
j8=$(timed "$TMP/o8" "$TMP/sleep.lua" "$TMP/sleep.txt" --jobs 8)
here=$(timed "$FAST/oh" "$TMP/noop.lua" "$TMP/noop.txt")
work=$(timed "$FAST/ow" "$TMP/noop.lua" "$TMP/noop.txt" --jobs 2)

printf '%-44s %10s\n' "workers benchmark" "result"
printf '%-44s %9.2fs\n' "24 scenes x 0.3 s sleep, --jobs 1" "$j1"
printf '%-44s %9.2fs\n' "24 scenes x 0.3 s sleep, --jobs 8" "$j8"
printf '%-44s %9.2fx\n' "speed-up (jobs 1 / jobs 8; goal >= 6)" "$(echo "$j1 / $j8" | bc -l)"
printf '%-44s %10s\n' "no-op runs write to" "$(df --output=fstype "$FAST" 2>/dev/null | tail -1)"
printf '%-44s %9.2fs\n' "2000 no-op scenes, in-process" "$here"
printf '%-44s %9.2fs\n' "2000 no-op scenes, --jobs 2 (workers)" "$work"
printf '%-44s %8.3fms\n' "worker overhead per scene (goal < 1 ms)" "$(echo "($work - $here) * 1000 / 2000" | bc -l)"
