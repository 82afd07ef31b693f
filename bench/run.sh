#!/usr/bin/env bash
# bench/run.sh -- explainer's speed and memory against floors measured in the same run.
# usage: bash bench/run.sh [BUILD_DIR]     (make bench does this after building)
# Environment: SCENES="1000 10000 100000" (the sizes of the parse rows; the runs use
# 10000), RUNS=5 (runs per timing; the median is reported), BENCH_OUT=bench/out.
# Prints a Markdown table and keeps it in $BENCH_OUT/results.md. Nothing here is a
# test: targets that are missed are marked "no", and the script still exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-${BUILD:-build}}
EXPLAINER=$PWD/$BUILD/explainer
OUT=${BENCH_OUT:-bench/out}
RUNS=${RUNS:-5}
SCENES=${SCENES:-1000 10000 100000}
LARGE=10000
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
MEASURE=(python3 bench/measure.py)
[ -x "$EXPLAINER" ] || { echo "bench: $EXPLAINER not built (make BUILD=$BUILD)" >&2; exit 2; }
[ -x "$OUT/peak" ] || cc -O2 -o "$OUT/peak" bench/peak.c
export BENCH_PEAK=$OUT/peak

script() { echo "$OUT/s$1.txt"; }
for n in $SCENES $LARGE 1; do
  [ -s "$(script "$n")" ] || lua5.4 bench/gen.lua "$n" "$(script "$n")"
done
LARGE_SCRIPT=$(script $LARGE)
mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f", b / 1e6 }'; }

rows=()
# row NAME VALUE FLOOR RATIO TARGET MET
row() { rows+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); printf '  %-58s %12s  %s\n' "$1" "$2" "$6" >&2; }
fmt_s() { awk -v s="$1" 'BEGIN { if (s < 1) printf "%.1f ms", s * 1000; else printf "%.2f s", s }'; }
fmt_mb() { awk -v k="$1" 'BEGIN { printf "%.0f MB", k * 1024 / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }' && echo yes || echo "**no**"; }
measure() { "${MEASURE[@]}" "$@"; }   # -> "median min peak_kb"

declare -A peak_kb
echo "bench: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2

# ---- parse --json against wc -l, at three sizes ------------------------------
declare -A per_mb
for n in $SCENES; do
  f=$(script "$n")
  runs=$RUNS; [ "$n" -ge 100000 ] && runs=3
  read -r t _ kb < <(measure --runs "$runs" -- "$EXPLAINER" parse "$f" --json)
  read -r w _ _ < <(measure --runs "$runs" -- wc -l "$f")
  peak_kb["parse --json, $n scenes"]=$kb
  per_mb[$n]=$(awk -v t="$t" -v s="$(stat -c %s "$f")" 'BEGIN { print t / (s / 1e6) }')
  row "\`parse --json\`, $n scenes ($(mb "$f") MB)" "$(fmt_s "$t")" "wc -l: $(fmt_s "$w")" \
      "$(ratio "$t" "$w")" "≤ 5x" "$(le "$(awk -v t="$t" -v w="$w" 'BEGIN { print t / w }')" 5)"
done
sizes=($SCENES)
if [ "${#sizes[@]}" -ge 2 ]; then
  first=${sizes[0]} last=${sizes[${#sizes[@]}-1]}
  g=$(awk -v a="${per_mb[$last]}" -v b="${per_mb[$first]}" 'BEGIN { printf "%.2f", a / b }')
  row "linear growth: time per MB at $last vs $first scenes" \
      "$(awk -v x="${per_mb[$last]}" 'BEGIN { printf "%.1f ms/MB", x * 1000 }')" \
      "$(awk -v x="${per_mb[$first]}" 'BEGIN { printf "%.1f ms/MB", x * 1000 }')" "${g}x" "≤ 1.3x" "$(le "$g" 1.3)"
fi

# ---- plain parse (the Lua document) -----------------------------------------
read -r t _ kb < <(measure --runs "$RUNS" -- "$EXPLAINER" parse "$LARGE_SCRIPT")
peak_kb["parse (summary), $LARGE scenes"]=$kb
row "\`parse\` (summary via Lua tables), $LARGE scenes" "$(fmt_s "$t")" "" "" "" ""

# ---- a no-op processor over every scene, then the all-skipped rerun ----------
# run_pair NAME DIR: DIR's filesystem is the one the folders are created on.
run_pair() {
  local name=$1 dir=$2 t kb floor
  local names="$OUT/dirnames"
  seq -f 'scene_%02g' 1 "$LARGE" > "$names"
  local stem nested
  stem=$(basename "$LARGE_SCRIPT" .txt)
  read -r floor _ _ < <(measure --runs 3 --setup "rm -rf '$dir/floor' && mkdir -p '$dir/floor'" \
      --cwd "$dir/floor" -- sh -c 'xargs mkdir < "$1"' sh "$names")
  # The same folders where a run makes them (<out>/<stem>/scene_NN), after the
  # same removal of the last ones: on ext4 where a folder goes and which inodes
  # were just freed move mkdir's cost by up to 10x (ext4's recently_deleted).
  read -r nested _ _ < <(measure --runs 3 --setup "rm -rf '$dir/floor' && mkdir -p '$dir/floor/$stem'" \
      --cwd "$dir/floor/$stem" -- sh -c 'xargs mkdir < "$1"' sh "$names")
  read -r t _ kb < <(measure --runs 3 --setup "rm -rf '$dir/run'" -- \
      "$EXPLAINER" bench/noop.lua "$LARGE_SCRIPT" --output-dir "$dir/run" --quiet)
  peak_kb["no-op run ($name), $LARGE scenes"]=$kb
  row "no-op processor, $LARGE scenes, folders created ($name)" "$(fmt_s "$t")" \
      "mkdir of $LARGE folders: $(fmt_s "$floor")" "$(ratio "$t" "$floor")" "≤ 1.5x" \
      "$(le "$(awk -v t="$t" -v f="$floor" 'BEGIN { print t / f }')" 1.5)"
  row "the same, against mkdir where the run makes them ($name)" "$(fmt_s "$t")" \
      "mkdir of $LARGE folders in <out>/$stem: $(fmt_s "$nested")" "$(ratio "$t" "$nested")" "≤ 1.5x" \
      "$(le "$(awk -v t="$t" -v f="$nested" 'BEGIN { print t / f }')" 1.5)"
  if [ "$name" != tmpfs ]; then
    # The same with --durable: a sync per scene start (docs/guarantees.md).
    read -r t _ _ < <(measure --runs 3 --setup "rm -rf '$dir/run'" -- \
        "$EXPLAINER" bench/noop.lua "$LARGE_SCRIPT" --output-dir "$dir/run" --quiet --durable)
    row "no-op processor, $LARGE scenes, \`--durable\` ($name)" "$(fmt_s "$t")" \
        "mkdir of $LARGE folders: $(fmt_s "$floor")" "$(ratio "$t" "$floor")" "" ""
    rm -rf "$dir/run"
    "$EXPLAINER" bench/noop.lua "$LARGE_SCRIPT" --output-dir "$dir/run" --quiet
  fi
  # Every output present: the rerun must skip every scene.
  for d in "$dir"/run/*/scene_*; do : > "$d/final.png"; done
  read -r t _ kb < <(measure --runs "$RUNS" -- \
      "$EXPLAINER" bench/noop.lua "$LARGE_SCRIPT" --output-dir "$dir/run" --quiet)
  peak_kb["skip rerun ($name), $LARGE scenes"]=$kb
  row "rerun, every scene skipped ($name)" "$(fmt_s "$t")" "" "" "< 0.15 s" "$(le "$t" 0.15)"
  rm -rf "$dir/run" "$dir/floor"
}
disk_fs=$(df -T "$OUT" | awk 'NR == 2 { print $2 }')
run_pair "disk, $disk_fs" "$OUT"
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  shm=$(mktemp -d /dev/shm/explainer-bench.XXXXXX)
  run_pair "tmpfs" "$shm"
  rm -rf "$shm"
fi

# ---- start-up ------------------------------------------------------------------
# On tmpfs the row is the start-up itself; on the disk it adds the one fdatasync
# of the journal a run makes when it ends (docs/guarantees.md), shown apart.
startup_row() {
  local name=$1 dir=$2 t l
  read -r t _ _ < <(measure --runs 20 --setup "rm -rf '$dir/start'" -- \
      "$EXPLAINER" bench/noop.lua "$(script 1)" --output-dir "$dir/start" --quiet)
  read -r l _ _ < <(measure --runs 20 -- lua5.4 -e '')
  row "start-up: one-scene no-op run ($name)" "$(fmt_s "$t")" "lua5.4 -e '': $(fmt_s "$l")" \
      "$(ratio "$t" "$l")" "≤ 3x" "$(le "$(awk -v t="$t" -v l="$l" 'BEGIN { print t / l }')" 3)"
  rm -rf "$dir/start"
}
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  shm=$(mktemp -d /dev/shm/explainer-bench.XXXXXX)
  startup_row "tmpfs" "$shm"
  rm -rf "$shm"
fi
startup_row "disk, $(df -T "$OUT" | awk 'NR == 2 { print $2 }')" "$OUT"

# ---- peak memory against the size of the large script --------------------------
size_kb=$(( $(stat -c %s "$LARGE_SCRIPT") / 1024 ))
for k in "${!peak_kb[@]}"; do
  case $k in *", $LARGE scenes") ;; *) continue ;; esac
  kb=${peak_kb[$k]}
  row "peak RSS: ${k%, * scenes}" "$(fmt_mb "$kb")" "script: $(fmt_mb "$size_kb")" \
      "$(ratio "$kb" "$size_kb")" "≤ 2.5x" "$(le "$(awk -v a="$kb" -v b="$size_kb" 'BEGIN { print a / b }')" 2.5)"
done

# ---- base64 of a 3 MiB image (an OpenAI b64_json answer) -------------------------
b64="$OUT/image3m.b64"
[ -s "$b64" ] || head -c 3145728 /dev/urandom | base64 -w 0 > "$b64"
b64_cpu() { LUA_PATH="$PWD/lua/?.lua;;" LUA_CPATH="$PWD/$BUILD/?.so;;" lua5.4 bench/base64.lua "$b64" "$@" | cut -d' ' -f1; }
t=$(b64_cpu); l=$(b64_cpu lua)
row "base64 decode of a 3 MiB image (CPU, recipes.base64)" "$(fmt_s "$t")" "pure Lua: $(fmt_s "$l")" \
    "$(ratio "$l" "$t") faster" "< 50 ms" "$(le "$t" 0.05)"

# ---- parallel workers (bench/workers.sh prints its own rows) ---------------------
workers=""
if [ -f bench/workers.sh ]; then
  workers=$(bash bench/workers.sh "$BUILD") || workers="(bench/workers.sh failed: exit $?)"
fi

# ---- the offline film against its floor (bench/film.sh prints its own table) -------
film=""
if [ -f bench/film.sh ]; then
  film=$(bash bench/film.sh "$BUILD") || film="(bench/film.sh failed: exit $?)"
fi

{
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, $(. /etc/os-release && echo "$PRETTY_NAME"); $(date -u +%Y-%m-%d)"
  echo
  echo "| measurement | explainer | floor (same run) | ratio | target | met |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  if [ -n "$workers" ]; then echo; echo "$workers"; fi
  if [ -n "$film" ]; then echo; echo "$film"; fi
} | tee "$OUT/results.md"
