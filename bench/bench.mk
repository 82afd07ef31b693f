# bench/bench.mk -- `make bench`: speed and memory against floors (bench/run.sh), then
# the offline voices' word error rate (bench/voice.sh, `make bench-voice` alone).
# Builds a release tree in $(BENCH_BUILD), generates the scripts once into bench/out/
# (1k, 10k and 100k scenes: 2.5, 25 and 250 MB) and prints the tables. A few minutes.
#   make bench BENCH_SCENES="1000 10000"   skip the 250 MB script
#   make bench-voice BENCH_VOICES="rms slt espeak:en-us"   other voices
# The voices' bench needs pocketsphinx and pocketsphinx-en-us (apt-get install; not in
# make deps, as only it uses them): without them it says so and fails.
# `make bench-film`: only the offline film against its floor (bench/film.sh, a few minutes).

BENCH_BUILD  ?= build/bench
BENCH_SCENES ?= 1000 10000 100000
BENCH_RUNS   ?= 5
BENCH_VOICES ?= rms espeak:en-us

.PHONY: bench-voice

bench: bench/out/peak
	$(MAKE) BUILD=$(BENCH_BUILD) OPT='-O2 -g' all
	SCENES="$(BENCH_SCENES)" RUNS=$(BENCH_RUNS) bash bench/run.sh $(BENCH_BUILD)
	VOICES="$(BENCH_VOICES)" bash bench/voice.sh $(BENCH_BUILD)

bench-voice: all
	VOICES="$(BENCH_VOICES)" bash bench/voice.sh $(BUILD)

bench-film: bench/out/peak
	$(MAKE) BUILD=$(BENCH_BUILD) OPT='-O2 -g' all
	bash bench/film.sh $(BENCH_BUILD)

bench/out/peak: bench/peak.c
	@mkdir -p bench/out
	$(CC) -O2 -Wall -Wextra -o $@ $<
