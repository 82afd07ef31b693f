# fuzz/fuzz.mk -- libFuzzer over the parser and the JSON writer, and over the journal
# reader (included by the Makefile).
#   make fuzz FUZZ_SECONDS=600     fuzz each target for ten minutes (default 60 s)
#   make fuzz-parse / make fuzz-journal   one of them
# New inputs go to fuzz/corpus-run/ (not kept in git), the seeds stay in fuzz/corpus/.
# A crash is saved as fuzz/crashes/crash-<sha1> and fails the target; keep it as a
# regression input in tests/fixtures/crashes/ (tests/c/test_corpus.c runs them all).

FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build/fuzz
FUZZ_FLAGS   ?=
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Wall -Wextra -Werror -Isrc -Ifuzz
# The parser is every src/parse*.c (parse.c drives the others, see parse_internal.h).
FUZZ_SRC     := fuzz/fuzz_parse.c $(wildcard src/parse*.c) src/json_out.c

$(FUZZ_BUILD)/fuzz_parse: $(FUZZ_SRC) $(wildcard src/parse*.h) src/json_out.h fuzz/properties.h fuzz/json_check.h
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(FUZZ_SRC) -lm

JOURNAL_SRC  := fuzz/fuzz_journal.c src/journal.c src/hash.c src/util.c

$(FUZZ_BUILD)/fuzz_journal: $(JOURNAL_SRC) src/journal.h src/hash.h src/util.h
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(JOURNAL_SRC) -lxxhash -lm

.PHONY: fuzz-parse fuzz-journal
fuzz: fuzz-parse fuzz-journal

fuzz-parse: SHELL := /bin/bash
fuzz-parse: $(FUZZ_BUILD)/fuzz_parse
	@mkdir -p fuzz/corpus-run fuzz/crashes
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $(FUZZ_BUILD)/fuzz_parse -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	  -max_len=16384 -dict=fuzz/parse.dict -artifact_prefix=fuzz/crashes/ \
	  -print_final_stats=1 $(FUZZ_FLAGS) fuzz/corpus-run fuzz/corpus 2>&1 \
	  | grep -v -E '^#[0-9]+.*(NEW|REDUCE|pulse)' | tail -n 40; \
	  status=$${PIPESTATUS[0]}; exit $$status

# The journal: inputs up to 80 KB, so that lines longer than the reader's cap and
# its 64 KB reads are reached.
fuzz-journal: SHELL := /bin/bash
fuzz-journal: $(FUZZ_BUILD)/fuzz_journal
	@mkdir -p fuzz/journal-corpus-run fuzz/crashes
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $(FUZZ_BUILD)/fuzz_journal -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	  -max_len=81920 -artifact_prefix=fuzz/crashes/journal- \
	  -print_final_stats=1 $(FUZZ_FLAGS) fuzz/journal-corpus-run fuzz/journal-corpus 2>&1 \
	  | grep -v -E '^#[0-9]+.*(NEW|REDUCE|pulse)' | tail -n 40; \
	  status=$${PIPESTATUS[0]}; exit $$status
