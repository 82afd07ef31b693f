# bench/bench.mk -- `make bench`: speed and memory against floors (bench/run.sh).
# Builds a release tree in $(BENCH_BUILD), generates the scripts once into bench/out/
# (1k, 10k and 100k scenes: 2.5, 25 and 250 MB) and prints the table. A few minutes.
#   make bench BENCH_SCENES="1000 10000"   skip the 250 MB script
# `make bench-film`: only the offline film against its floor (bench/film.sh, a few minutes).

BENCH_BUILD  ?= build/bench
BENCH_SCENES ?= 1000 10000 100000
BENCH_RUNS   ?= 5

bench: bench/out/peak
	$(MAKE) BUILD=$(BENCH_BUILD) OPT='-O2 -g' all
	SCENES="$(BENCH_SCENES)" RUNS=$(BENCH_RUNS) bash bench/run.sh $(BENCH_BUILD)

bench-film: bench/out/peak
	$(MAKE) BUILD=$(BENCH_BUILD) OPT='-O2 -g' all
	bash bench/film.sh $(BENCH_BUILD)

bench/out/peak: bench/peak.c
	@mkdir -p bench/out
	$(CC) -O2 -Wall -Wextra -o $@ $<
