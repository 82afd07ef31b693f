#!/usr/bin/env bash
# bench/voice.sh -- how well the offline voices are understood: every narration of the
# bundled example spoken by each voice (scripts/audio.lua, as users run it), transcribed
# by an offline recogniser (pocketsphinx, Debian's US English model), and scored as word
# error rate against the script (bench/voice_wer.lua says how words are normalised).
# usage: bash bench/voice.sh [BUILD_DIR]     (make bench-voice; part of make bench)
# Environment: VOICES="rms espeak:en-us" (the default voice, then espeak-ng's, the
# default before flite), SCRIPT=examples/sample.txt, BENCH_OUT=bench/out.
# Needs pocketsphinx and pocketsphinx-en-us (not in make deps: only this bench uses them);
# without them it says so and exits 2. Prints a Markdown table, kept in
# $BENCH_OUT/voice.md, and each transcript on stderr. A measure, not a test: it exits 0
# whatever the numbers are.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-${BUILD:-build}}
EXPLAINER=$PWD/$BUILD/explainer
OUT=${BENCH_OUT:-bench/out}
SCRIPT=${SCRIPT:-examples/sample.txt}
VOICES=${VOICES:-rms espeak:en-us}
MODEL=${POCKETSPHINX_MODEL:-/usr/share/pocketsphinx/model/en-us}
[ -x "$EXPLAINER" ] || { echo "bench-voice: $EXPLAINER not built (make BUILD=$BUILD)" >&2; exit 2; }
if ! command -v pocketsphinx_continuous >/dev/null || [ ! -d "$MODEL/en-us" ]; then
  echo "bench-voice: needs pocketsphinx_continuous and its US English model" \
       "(apt-get install pocketsphinx pocketsphinx-en-us)" >&2
  exit 2
fi
mkdir -p "$OUT/voice"
OUT=$(cd "$OUT" && pwd)
"$EXPLAINER" narration "$SCRIPT" --json > "$OUT/voice/narrations.json"

# CPU seconds (user + system) of a command and all it started.
cpu() {
  python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.2f" % (r.ru_utime + r.ru_stime))' "$@"
}

rows=()
for voice in $VOICES; do
  dir="$OUT/voice/${voice//[^A-Za-z0-9_-]/_}"
  rm -rf "$dir" && mkdir -p "$dir"
  echo "bench-voice: $voice" >&2
  seconds=$(EXPLAINER_AUDIO_BACKEND=local EXPLAINER_VOICE="$voice" \
    cpu "$EXPLAINER" scripts/audio.lua "$SCRIPT" --no-cache --quiet --output-dir "$dir/run")
  audio=0
  for n in $(lua5.4 -e 'local cjson = require "cjson"
    for _, s in ipairs(cjson.decode(io.read("a"))) do
      if s.narration ~= cjson.null then print(("%d"):format(s.scene_number)) end
    end' < "$OUT/voice/narrations.json"); do
    nn=$(printf '%02d' "$n")
    track=$(ls "$dir"/run/*/scene_"$nn"/narration.mp3)
    d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$track")
    audio=$(awk -v a="$audio" -v d="$d" 'BEGIN { print a + d }')
    # the recogniser's model is 16 kHz mono
    ffmpeg -nostdin -v error -y -i "$track" -ar 16000 -ac 1 "$dir/scene_$nn.wav"
    pocketsphinx_continuous -hmm "$MODEL/en-us" -lm "$MODEL/en-us.lm.bin" \
      -dict "$MODEL/cmudict-en-us.dict" -infile "$dir/scene_$nn.wav" -logfn /dev/null \
      > "$dir/scene_$nn.txt" 2>/dev/null
  done
  IFS=$'\t' read -r _ errors words wer < <(lua5.4 bench/voice_wer.lua "$OUT/voice/narrations.json" "$dir" "$voice")
  speed=$(awk -v a="$audio" -v c="$seconds" 'BEGIN { printf "%.0fx", a / c }')
  rows+=("| \`$voice\` | $wer | $errors / $words | $(printf '%.1f' "$audio") s | $seconds s | $speed |")
done

{
  echo "| voice | word error rate | errors / words | narration | CPU (whole run) | audio s per CPU s |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | tee "$OUT/voice.md"
