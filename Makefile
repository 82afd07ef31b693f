# explainer -- build, test, install.
# `make` builds build/explainer (the host) and build/explainer_core.so (the Lua module).

PREFIX  ?= /usr/local
DESTDIR ?=
LUA     ?= lua5.4
LUA_PKG ?= lua5.4

CC      ?= cc
OPT     ?= -O2 -g
SAN     ?=
WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
LUA_CFLAGS := $(shell pkg-config --cflags $(LUA_PKG))
LUA_LIBS   := $(shell pkg-config --libs $(LUA_PKG))
# libcurl's headers only: http.c opens the library on its first request.
CURL_CFLAGS := $(shell pkg-config --cflags libcurl 2>/dev/null)
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -fPIC $(SAN) $(LUA_CFLAGS) $(CURL_CFLAGS)
LDFLAGS += $(SAN)

BUILD   ?= build
OBJDIR  := $(BUILD)/obj
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.1.0)
CFLAGS  += -DEXPLAINER_VERSION='"$(VERSION)"'

# The core is every src/*.c that does not include Lua: parsing, the run, the journal,
# exec and http. It is a static library, libexplainer.a, that the C tests link alone
# (no -llua): a core file that used Lua would not link. The Lua binding is every file
# that includes it (the l*.c files), and main.c is the host. New files need no edit.
LUA_SRC  := $(shell grep -l -e '<lua.h>' -e '<lauxlib.h>' src/*.c)
CORE_SRC := $(filter-out $(LUA_SRC),$(wildcard src/*.c))
BIND_SRC := $(filter-out src/main.c,$(LUA_SRC))
CORE_OBJ := $(CORE_SRC:src/%.c=$(OBJDIR)/%.o)
BIND_OBJ := $(BIND_SRC:src/%.c=$(OBJDIR)/%.o)
CORE_LIB := $(BUILD)/libexplainer.a
HEADERS  := $(wildcard src/*.h)

# C-level tests: tests/c/test_*.c, each linked with the core library alone.
CTEST_SRC := $(wildcard tests/c/test_*.c)
CTEST_BIN := $(CTEST_SRC:tests/c/%.c=$(BUILD)/tests/%)

.PHONY: all deps test test-c test-lua test-asan install uninstall clean bench bench-film fuzz lint test-slurm

# The man page is built when scdoc is there (make deps installs it).
MANPAGE := $(if $(shell command -v scdoc 2>/dev/null),$(BUILD)/explainer.1)

all: $(BUILD)/explainer $(BUILD)/explainer_core.so $(MANPAGE)

$(BUILD)/explainer.1: docs/explainer.1.scd VERSION | $(OBJDIR)
	sed 's/@VERSION@/$(VERSION)/' docs/explainer.1.scd | scdoc > $@

$(OBJDIR)/%.o: src/%.c $(HEADERS) | $(OBJDIR)
	$(CC) $(CFLAGS) -c -o $@ $<

$(OBJDIR):
	mkdir -p $@ $(BUILD)/tests

$(CORE_LIB): $(CORE_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

# -Wl,-E exports the Lua API from the host so that C modules (lfs, cjson) load into it.
$(BUILD)/explainer: $(OBJDIR)/main.o $(BIND_OBJ) $(CORE_LIB)
	$(CC) $(LDFLAGS) -Wl,-E -o $@ $^ $(LUA_LIBS) -lxxhash -ldl -lm

# The module takes the Lua API from whichever interpreter loads it: no -llua here.
$(BUILD)/explainer_core.so: $(BIND_OBJ) $(CORE_LIB)
	$(CC) $(LDFLAGS) -shared -o $@ $^ -lxxhash -ldl -lm

$(BUILD)/tests/%: tests/c/%.c tests/c/check.h $(wildcard fuzz/*.h) $(CORE_LIB) | $(OBJDIR)
	$(CC) $(CFLAGS) -Isrc -o $@ $< $(CORE_LIB) -lxxhash -ldl -lm

# The frame and the card draw their text with ImageMagick's pango: coder
# (libmagickcore-6.q16-6-extra), the frame's in Inter (fonts-inter), emoji in colour from
# fonts-noto-color-emoji. The default voice is flite's, through ffmpeg's flite source
# (Debian's ffmpeg depends on libflite1: no package of its own); espeak-ng for its voices.
# festival (slt-hts, 23 MB) is left to those who want it. fonts-noto-cjk (56 MB) sets
# Chinese, Japanese and Korean on-screen text, which Inter lacks (pango falls back to it;
# without it those characters are boxes with hex codes in them).
deps:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends \
	  build-essential pkg-config lua5.4 liblua5.4-dev lua-filesystem lua-cjson lua-busted \
	  libcurl4-openssl-dev libxxhash-dev ca-certificates python3 espeak-ng ffmpeg imagemagick \
	  fonts-dejavu-core ghostscript scdoc fonts-noto-color-emoji libmagickcore-6.q16-6-extra \
	  fonts-inter fonts-noto-cjk

test: all $(CTEST_BIN)
	@BUILD=$(BUILD) LUA=$(LUA) bash tests/run

test-c: $(CTEST_BIN)
	@BUILD=$(BUILD) ONLY=c bash tests/run

# The whole suite with the C code under AddressSanitizer and UBSan, in its own build tree.
test-asan:
	$(MAKE) BUILD=build/asan CC=clang OPT='-O1 -g -fno-omit-frame-pointer' \
	  SAN='-fsanitize=address,undefined -fno-sanitize-recover=undefined' test-asan-run

test-asan-run: all $(CTEST_BIN) $(BUILD)/tests/unpreload.so
	@BUILD=$(BUILD) LUA=$(LUA) SANITIZED=1 bash tests/run

# Takes the sanitizer runtime out of LD_PRELOAD once lua5.4 runs (tests/unpreload.lua).
$(BUILD)/tests/unpreload.so: tests/c/unpreload.c | $(OBJDIR)
	$(CC) $(CFLAGS) -shared -o $@ $<

# Install folders; LuaRocks passes its own (explainer-scm-1.rockspec). The host
# finds the bundled scripts in <bin>/../share/explainer/scripts, or beside the
# modules in LUADIR/explainer/scripts (what the rockspec chooses).
LUADIR  := $(DESTDIR)$(PREFIX)/share/lua/5.4
CMODDIR := $(DESTDIR)$(PREFIX)/lib/lua/5.4
BINDIR  := $(DESTDIR)$(PREFIX)/bin
SCRIPTDIR := $(DESTDIR)$(PREFIX)/share/explainer/scripts
MANDIR  := $(DESTDIR)$(PREFIX)/share/man
BASHCOMPDIR := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR := $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions

install: all
	install -d $(BINDIR) $(LUADIR)/explainer/recipes $(CMODDIR) $(SCRIPTDIR) \
	  $(BASHCOMPDIR) $(ZSHCOMPDIR)
	install -m 755 $(BUILD)/explainer $(BINDIR)/explainer
	install -m 755 $(BUILD)/explainer_core.so $(CMODDIR)/explainer_core.so
	install -m 644 lua/explainer/*.lua $(LUADIR)/explainer/
	install -m 644 lua/explainer/board.html $(LUADIR)/explainer/
	if ls lua/explainer/recipes/*.lua >/dev/null 2>&1; then \
	  install -m 644 lua/explainer/recipes/*.lua $(LUADIR)/explainer/recipes/; fi
	install -m 644 scripts/*.lua $(SCRIPTDIR)/
	install -m 644 completions/explainer.bash $(BASHCOMPDIR)/explainer
	install -m 644 completions/_explainer $(ZSHCOMPDIR)/_explainer
	if [ -f $(BUILD)/explainer.1 ]; then \
	  install -d $(MANDIR)/man1 && install -m 644 $(BUILD)/explainer.1 $(MANDIR)/man1/; fi

uninstall:
	rm -rf $(BINDIR)/explainer $(CMODDIR)/explainer_core.so \
	  $(LUADIR)/explainer $(addprefix $(SCRIPTDIR)/,$(notdir $(wildcard scripts/*.lua))) \
	  $(DESTDIR)$(PREFIX)/share/explainer \
	  $(MANDIR)/man1/explainer.1 $(BASHCOMPDIR)/explainer $(ZSHCOMPDIR)/_explainer

# luacheck (Debian lua-check) over the Lua code, zero warnings (.luacheckrc); the
# C code is built with -Werror by `all` and the C tests; cppcheck when installed.
lint: all $(CTEST_BIN)
	luacheck -q lua scripts tests
	@if command -v cppcheck >/dev/null; then \
	  echo "cppcheck src tests/c fuzz"; \
	  cppcheck -q --std=c11 --enable=warning,portability,performance --error-exitcode=1 \
	    --inline-suppr -Isrc src tests/c fuzz; \
	else echo "lint: cppcheck is not installed; C checked by the compiler only"; fi

# explainer slurm on a one-node Slurm cluster of its own (needs munge, slurmctld,
# slurmd, slurm-client; about a minute).
test-slurm: all
	@BUILD=$(BUILD) bash tests/slurm/run.sh

clean:
	rm -rf $(BUILD)

# Benchmarks and fuzzing live beside their inputs.
-include bench/bench.mk
-include fuzz/fuzz.mk
