-- LuaRocks: `luarocks --lua-version 5.4 --tree /tmp/x make` in a clone installs the
-- `explainer` module, its C core (explainer_core.so), the `explainer` command and the
-- bundled workflow scripts into that tree, through the Makefile's install target.
rockspec_format = "3.0"
package = "explainer"
version = "scm-1"

source = {
  -- Where the project's public repository will be; `luarocks make` in a clone
  -- does not fetch it.
  url = "git+https://example.org/explainer.git",
}

description = {
  summary = "Batch-process the scenes of explainer scripts into images, narration and video",
  detailed = [[
A C core parses explainer scripts (a short video described scene by scene) and runs
Lua workflows over their scenes: skip logic, a resumable journal, worker processes,
retries, shards. Recipes make images (ImageMagick, OpenAI, fal), narration
(espeak-ng, OpenAI, ElevenLabs) and the narrated video (ffmpeg).
]],
  license = "MIT",
  labels = { "video", "tts", "batch", "workflow" },
}

dependencies = {
  "lua >= 5.4, < 5.5",
  "lua-cjson",
  "luafilesystem",
}

external_dependencies = {
  -- libxxhash (Debian libxxhash-dev) for the journal's input hashes. libcurl's
  -- headers are found by pkg-config (Debian keeps them in a multiarch folder that
  -- LuaRocks does not search); the library itself is opened at run time.
  XXHASH = { header = "xxhash.h" },
}

build = {
  type = "make",
  build_variables = {
    CC = "$(CC)",
    OPT = "$(CFLAGS)",
    LUA_CFLAGS = "-I$(LUA_INCDIR)",
  },
  install_variables = {
    PREFIX = "$(PREFIX)",
    BINDIR = "$(BINDIR)",
    LUADIR = "$(LUADIR)",
    CMODDIR = "$(LIBDIR)",
    -- Beside the modules, so that the tree's `explainer` finds them (cli.lua).
    SCRIPTDIR = "$(LUADIR)/explainer/scripts",
    MANDIR = "$(PREFIX)/share/man",
    BASHCOMPDIR = "$(PREFIX)/share/bash-completion/completions",
    ZSHCOMPDIR = "$(PREFIX)/share/zsh/vendor-completions",
  },
}
