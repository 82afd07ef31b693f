#!/usr/bin/env bash
# bench/film.sh -- the offline film of the 12-scene example against its floor, all
# measured in one run (`make bench-film`; `make bench` runs it too).
# usage: bash bench/film.sh [BUILD_DIR]
#
# The floor: what any tool making this film must spend. The stills (cards) and the
# narrations are made by scripts/image.lua and scripts/audio.lua (--jobs 1, --no-cache)
# under a timing shim, and only the tools' own time counts (convert, the speech engine,
# the MP3 encode; not their checks); then ONE ffmpeg pass makes the same film from
# them (zoompan on each still, the holds and crossfades, the fades, the narrations
# crossfaded; without the loudness step, so the floor errs low: bench/film_floor.lua).
# Then scripts/video.lua (its default --jobs) on a copy of the example, --no-cache:
#   cold            from nothing
#   edit            after one narration edit (alternating between two wordings, so
#                   that each run has a new track, clip and film to make)
#   unchanged       a rerun with nothing to do
#   preview         EXPLAINER_PREVIEW=1, from nothing (a draft at 540x960)
# Environment: FILM_RUNS (cold and preview runs, 1), EDIT_RUNS (3), BENCH_OUT.
# Prints a Markdown table (also kept in $BENCH_OUT/film.md) with the load average the
# machine had: on a shared machine every time here moves with it.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-${BUILD:-build}}
EXPLAINER=$PWD/$BUILD/explainer
OUT=${BENCH_OUT:-bench/out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
[ -x "$EXPLAINER" ] || { echo "bench/film.sh: $EXPLAINER not built" >&2; exit 2; }
[ -x "$OUT/peak" ] || cc -O2 -o "$OUT/peak" bench/peak.c
export BENCH_PEAK=$OUT/peak
MEASURE=(python3 bench/measure.py)
measure() { "${MEASURE[@]}" "$@"; }   # -> "median min peak_kb"
W=$(mktemp -d "$OUT/film.XXXXXX")
trap 'rm -rf "$W"' EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }
loads=()
note_load() { loads+=("$1 $(load)"); echo "bench/film.sh: $1 (load $(load))" >&2; }

# ---- the timing shim: each tool's wall time, and whether it made or checked --------
mkdir -p "$W/shim"
for t in convert magick espeak-ng flite ffmpeg ffprobe; do
  real=$(command -v "$t") || continue
  cat > "$W/shim/$t" <<EOF
#!/bin/bash
start=\$EPOCHREALTIME
"$real" "\$@"
rc=\$?
end=\$EPOCHREALTIME
kind=make
case "$t \$*" in ffprobe*|*silencedetect*) kind=check ;; esac
# the tool's CPU time: the second line of times, the shell's children (times runs
# in this shell, its output to a file: in a pipe it would count a subshell's)
times > "$W/times.\$\$"
cpu=\$(sed -n 2p "$W/times.\$\$" | awk '{ gsub(/[ms]/, " "); print \$1 * 60 + \$2 + \$3 * 60 + \$4 }')
rm -f "$W/times.\$\$"
echo "\$kind $t \$start \$end \$cpu" >> "$W/tools.log"
exit \$rc
EOF
  chmod +x "$W/shim/$t"
done
made_seconds() { awk '$1 == "make" { s += $4 - $3 } END { printf "%.3f", s }' "$W/tools.log"; }
made_cpu() { awk '$1 == "make" { s += $5 } END { printf "%.3f", s }' "$W/tools.log"; }

# ---- (a) the floor ---------------------------------------------------------------
note_load "floor: stills and speech"
: > "$W/tools.log"
for wf in image audio; do
  PATH="$W/shim:$PATH" "$EXPLAINER" "scripts/$wf.lua" examples/sample.txt --output-dir "$W/floor" \
    --no-cache --quiet --jobs 1
done
stills_speech=$(made_seconds)
stills_speech_cpu=$(made_cpu)
LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;;" LUA_CPATH="$PWD/$BUILD/?.so;;" \
  lua5.4 bench/film_floor.lua examples/sample.txt "$W/floor/sample" "$W/floor.argv" "$W/floor.mp4" >&2
note_load "floor: one ffmpeg pass"
read -r pass _ _ pass_cpu < <(measure --runs 1 --cpu -- xargs -0 -a "$W/floor.argv" ffmpeg)
floor=$(awk -v a="$stills_speech" -v b="$pass" 'BEGIN { print a + b }')
floor_cpu=$(awk -v a="$stills_speech_cpu" -v b="$pass_cpu" 'BEGIN { print a + b }')

# ---- (b) to (d): scripts/video.lua on a copy of the example ----------------------
mkdir -p "$W/doc"
cp examples/sample.txt "$W/doc/sample.txt"
run=("$EXPLAINER" scripts/video.lua "$W/doc/sample.txt" --output-dir "$W/out" --no-cache --quiet)
note_load "cold run"
read -r cold _ _ cold_cpu < <(measure --runs "${FILM_RUNS:-1}" --cpu --setup "rm -rf '$W/out'" -- "${run[@]}")
# One narration (scene 5's) between two wordings: each run has a new one to speak.
cat > "$W/edit.sh" <<EOF
#!/bin/sh
f='$W/doc/sample.txt'
if grep -q 'warming your home\\.' "\$f"; then
  sed -i 's/warming your home\\./warming every room of your home./' "\$f"
else
  sed -i 's/warming every room of your home\\./warming your home./' "\$f"
fi
EOF
note_load "rerun after one narration edit"
read -r edit _ _ edit_cpu < <(measure --runs "${EDIT_RUNS:-3}" --cpu --setup "sh '$W/edit.sh'" -- "${run[@]}")
note_load "unchanged rerun"
read -r same _ _ same_cpu < <(measure --runs 5 --cpu -- "${run[@]}")
note_load "preview run"
read -r preview _ _ preview_cpu < <(measure --runs "${FILM_RUNS:-1}" --cpu --setup "rm -rf '$W/prev'" -- \
  env EXPLAINER_PREVIEW=1 "$EXPLAINER" scripts/video.lua "$W/doc/sample.txt" --output-dir "$W/prev" --no-cache \
  --quiet)
note_load "done"

fmt_s() { awk -v s="$1" 'BEGIN { if (s < 1) printf "%.2f s", s; else printf "%.1f s", s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }' && echo yes || echo "**no**"; }
{
  echo "| the 12-scene example's film (\`scripts/video.lua\`, 1080x1920, 78.8 s) | explainer | floor (same run) | ratio | target | met |"
  echo "|---|---|---|---|---|---|"
  echo "| cold, from nothing (--no-cache) | $(fmt_s "$cold") | $(fmt_s "$floor"): one ffmpeg pass $(fmt_s "$pass") + stills and speech $(fmt_s "$stills_speech") | $(ratio "$cold" "$floor") | ≤ 1.5x | $(le "$(awk -v a="$cold" -v b="$floor" 'BEGIN { print a / b }')" 1.5) |"
  echo "| the same, CPU time (user + system) | $(fmt_s "$cold_cpu") | $(fmt_s "$floor_cpu"): pass $(fmt_s "$pass_cpu") + stills and speech $(fmt_s "$stills_speech_cpu") | $(ratio "$cold_cpu" "$floor_cpu") |  |  |"
  echo "| rerun after one narration edit (median of ${EDIT_RUNS:-3}) | $(fmt_s "$edit") (CPU $(fmt_s "$edit_cpu")) |  |  | ≤ 12 s | $(le "$edit" 12) |"
  echo "| unchanged rerun (median of 5) | $(fmt_s "$same") (CPU $(fmt_s "$same_cpu")) |  |  | < 0.3 s | $(le "$same" 0.299) |"
  echo "| \`EXPLAINER_PREVIEW=1\` (540x960), cold | $(fmt_s "$preview") (CPU $(fmt_s "$preview_cpu")) | full size: $(fmt_s "$cold") (CPU $(fmt_s "$cold_cpu")) | $(ratio "$preview" "$cold") (CPU $(ratio "$preview_cpu" "$cold_cpu")) |  |  |"
  echo
  echo "Load average (1, 5, 15 min) on $(nproc) cores when each step began:"
  for l in "${loads[@]}"; do echo "- $l"; done
} | tee "$OUT/film.md"
