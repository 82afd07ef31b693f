--- The shell completions: completions/explainer.bash and completions/_explainer; and
-- that they and the man page (docs/explainer.1.scd) know every flag of a run.
local h = require "helpers"

local q = h.shell_quote
local BASH = h.root .. "/completions/explainer.bash"
local ZSH = h.root .. "/completions/_explainer"
local MAN = h.root .. "/docs/explainer.1.scd"

--- Run a shell snippet; returns stdout, stderr, exit status.
local function sh(shell, script, cwd)
  local err = os.tmpname()
  -- Under make test-asan, LD_PRELOAD holds lua5.4's sanitizer runtime: not for these.
  local p = assert(io.popen(("%senv -u LD_PRELOAD %s -c %s 2>%s; echo \"::exit=$?\""):format(
    cwd and ("cd " .. q(cwd) .. " && ") or "", shell, q(script), q(err))))
  local out = p:read("a")
  p:close()
  local code = tonumber(out:match("::exit=(%d+)%s*$"))
  local stderr = h.read(err) or ""
  os.remove(err)
  return out:gsub("::exit=%d+%s*$", ""), stderr, code
end

--- What bash completes for a command line whose last word is being typed.
local function complete(words, cwd)
  local quoted = { q(h.bin) }
  for i = 2, #words do quoted[i] = q(words[i]) end
  local out, err, code = sh("bash", ([[
    source %s || exit 9
    COMP_WORDS=(%s)
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    COMP_LINE="${COMP_WORDS[*]}"
    COMPREPLY=()
    _explainer
    printf '%%s\n' "${COMPREPLY[@]}" | sort
  ]]):format(q(BASH), table.concat(quoted, " ")), cwd)
  assert(code == 0, "bash completion failed: " .. err)
  local list = {}
  for line in out:gmatch("[^\n]+") do list[#list + 1] = line end
  return list, err
end

local function has(list, item)
  for _, v in ipairs(list) do if v == item then return true end end
  return false
end

local zsh = os.execute("command -v zsh >/dev/null 2>&1")

--- What zsh completes for a command line typed up to a TAB: the matches the
-- completion functions add (sorted), in an interactive zsh driven through zpty.
local ZPTY = [[
zmodload zsh/zpty || exit 9
zpty z zsh -f -i
zpty -w z "PS1=; source ${(q)1}"
zpty -r -m z _ '*READY>*'
zpty -w -n z "$2"$'\t'
zpty -w z $'\025'"print DO''NE"
zpty -r -m z _ '*DONE*'
zpty -d z
]]

local function zcomplete(line, cwd)
  local init, found = os.tmpname(), os.tmpname()
  h.write(init, ([[
fpath=(%s $fpath)
path=(%s $path)
cd %s
unsetopt autolist automenu listambiguous
setopt nobeep
autoload -Uz compinit && compinit -u -D
compadd() { local -a m; builtin compadd -O m "$@"; print -rl -- $m >> %s; builtin compadd "$@"; }
PS1='READY''>'
]]):format(q(h.root .. "/completions"), q(h.bin:match("^(.*)/[^/]*$")), q(cwd or "."), q(found)))
  local _, err, code = sh("sh", ("timeout 30 zsh -f -c %s zsh %s %s"):format(q(ZPTY), q(init), q(line)))
  os.remove(init)
  local text = h.read(found) or ""
  os.remove(found)
  assert(code == 0, "zsh completion failed: " .. err)
  local list, seen = {}, {}
  for m in text:gmatch("[^\n]+") do
    if not seen[m] then list[#list + 1], seen[m] = m, true end
  end
  table.sort(list)
  return list
end

-- The shells' answers for one command line: { bash = list, zsh = list }.
local function both(words, cwd)
  local answers = { bash = complete(words, cwd) }
  if zsh then answers.zsh = zcomplete(table.concat(words, " "), cwd) end
  return answers
end

local commands = require("explainer.cli").commands()
local BUNDLED = {} -- what `explainer scripts` lists
for name in h.run({ "scripts" }):gmatch("(%S+)[^\n]*\n") do BUNDLED[#BUNDLED + 1] = name end

describe("bash completion", function()
  local dir
  setup(function()
    dir = h.tmpdir()
    h.write(dir .. "/film.txt", "")
    h.write(dir .. "/notes.md", "")
    h.write(dir .. "/mine.lua", "")
  end)
  teardown(function() h.rm_rf(dir) end)

  it("is sourced without error and registers _explainer for explainer", function()
    local out, err, code = sh("bash", "source " .. q(BASH) .. " && complete -p explainer")
    assert.equal(0, code, err)
    assert.equal("", err)
    assert.matches("complete %-F _explainer explainer", out)
  end)

  it("completes explainer --sc to --scenes", function()
    assert.same({ "--scenes" }, complete { "explainer", "--sc" })
  end)

  it("offers the commands, the bundled workflows and .lua files as the first word", function()
    local list = complete({ "explainer", "" }, dir)
    for _, want in ipairs { "parse", "status", "scripts", "slurm", "help", "video", "image",
        "audio", "prompts", "mine.lua" } do
      assert.is_true(has(list, want), want .. " in " .. table.concat(list, " "))
    end
    assert.is_false(has(list, "film.txt"), "a .txt file is not a workflow")
  end)

  it("offers .txt files (not other files) after the workflow", function()
    local list = complete({ "explainer", "video", "" }, dir)
    assert.same({ "film.txt" }, list)
  end)

  it("offers a bundled workflow after status and slurm, and .txt files after it", function()
    assert.same({ "video" }, complete({ "explainer", "status", "vi" }, dir))
    assert.same({ "video" }, complete({ "explainer", "slurm", "vi" }, dir))
    assert.same({ "film.txt" }, complete({ "explainer", "slurm", "video", "f" }, dir))
  end)

  it("completes option values: progress modes, and folders for --output-dir", function()
    assert.same({ "auto", "json", "plain", "quiet" },
      complete { "explainer", "video", "film.txt", "--progress", "" })
    h.write(dir .. "/outputs-file", "")
    assert(require("lfs").mkdir(dir .. "/outputs"))
    assert.same({ "outputs" }, complete({ "explainer", "video", "--output-dir", "out" }, dir))
  end)

  it("offers each command's own options: slurm's --tasks and --print", function()
    local list = complete { "explainer", "slurm", "video", "film.txt", "--" }
    assert.is_true(has(list, "--tasks"))
    assert.is_true(has(list, "--print"))
    assert.is_true(has(list, "--output-dir"))
    assert.same({ "--json" }, complete { "explainer", "parse", "--j" })
  end)

  it("offers only the flags slurm passes on to its jobs, not those it sets itself", function()
    local list = complete { "explainer", "slurm", "video", "film.txt", "--" }
    for _, own in ipairs { "--shard", "--finish-only", "--no-finish", "--dry-run", "--json" } do
      assert.is_false(has(list, own), own .. " offered after slurm")
    end
    assert.is_true(has(list, "--no-cache"))
  end)

  it("completes explainer cache p to prune, and offers the cache command's own options", function()
    assert.same({ "prune" }, complete { "explainer", "cache", "p" })
    assert.same({ "--cache-dir", "--json", "--max-size" }, complete { "explainer", "cache", "--" })
    assert.same({ "--cache-dir", "--json", "--max-size" },
      complete { "explainer", "cache", "prune", "--" })
  end)

  it("completes folders for --cache-dir, and counts its value as no positional word", function()
    h.write(dir .. "/caches-file", "")
    assert(require("lfs").mkdir(dir .. "/caches"))
    assert.same({ "caches" }, complete({ "explainer", "video", "--cache-dir", "cach" }, dir))
    assert.same({ "video" }, complete({ "explainer", "--cache-dir", "caches", "vi" }, dir))
    assert.same({ "prune" }, complete({ "explainer", "cache", "--cache-dir", "caches", "pr" }, dir))
  end)
end)

describe("bash and zsh completion", function()
  local dir
  setup(function()
    dir = h.tmpdir()
    h.write(dir .. "/film.txt", "")
    h.write(dir .. "/mine.lua", "")
  end)
  teardown(function() h.rm_rf(dir) end)

  it("offers every command the binary has, and nothing help does not take after help", function()
    local topics = {}
    for _, c in ipairs(commands) do topics[#topics + 1] = c end
    for _, w in ipairs(BUNDLED) do topics[#topics + 1] = w end
    table.sort(topics)
    for shell, list in pairs(both({ "explainer", "help", "" }, dir)) do
      assert.same(topics, list, shell)
    end
    for shell, list in pairs(both({ "explainer", "" }, dir)) do
      for _, want in ipairs(topics) do assert.is_true(has(list, want), shell .. ": " .. want) end
      assert.is_true(has(list, "mine.lua"), shell)
    end
  end)

  it("offers the bundled workflows and .lua files after status and run", function()
    for _, cmd in ipairs { "status", "run" } do
      for shell, list in pairs(both({ "explainer", cmd, "" }, dir)) do
        for _, want in ipairs { "mine.lua", table.unpack(BUNDLED) } do
          assert.is_true(has(list, want), shell .. " " .. cmd .. ": " .. want)
        end
        assert.is_false(has(list, "film.txt"), shell .. " " .. cmd)
      end
    end
  end)

  it("offers board's options, a workflow or a script first, and workflows after --workflow", function()
    for shell, list in pairs(both({ "explainer", "board", "--" }, dir)) do
      for _, want in ipairs { "--workflow", "--serve", "--output-dir", "--scenes" } do
        assert.is_true(has(list, want), shell .. ": " .. want .. " in " .. table.concat(list, " "))
      end
      assert.is_false(has(list, "--jobs"), shell)
    end
    for shell, list in pairs(both({ "explainer", "board", "" }, dir)) do
      for _, want in ipairs { "mine.lua", "film.txt", "video" } do
        assert.is_true(has(list, want), shell .. ": " .. want .. " in " .. table.concat(list, " "))
      end
    end
    assert.same({ "film.txt" }, complete({ "explainer", "board", "mine.lua", "" }, dir))
    assert.same({ "video" }, complete({ "explainer", "board", "--workflow", "vi" }, dir))
  end)

  it("offers check's rules after --disable, the binary's, also after a comma", function()
    for shell, list in pairs(both { "explainer", "check", "film.txt", "--disable", "" }) do
      for _, rule in ipairs { "pacing", "placeholder", "duplicate-scene", "no-scenes" } do
        assert.is_true(has(list, rule), shell .. ": " .. rule .. " in " .. table.concat(list, " "))
      end
      assert.is_false(has(list, "workflow-key"), shell)
    end
    assert.same({ "pacing,placeholder" }, complete { "explainer", "check", "--disable", "pacing,pl" })
    if zsh then
      assert.same({ "placeholder" }, zcomplete("explainer check --disable=pacing,pl"))
    end
  end)
end)

describe("every flag of a run (explainer.cli's RUN_FLAGS)", function()
  local flags = {}
  for name in pairs(require("explainer.cli").RUN_FLAGS) do flags[#flags + 1] = name end
  table.sort(flags)

  it("is offered by bash after a workflow and its file", function()
    local list = complete { "explainer", "video", "film.txt", "-" }
    local missing = {}
    for _, flag in ipairs(flags) do
      if not has(list, flag) then missing[#missing + 1] = flag end
    end
    assert.same({}, missing)
  end)

  it("is named by the zsh completion", function()
    local text = assert(h.read(ZSH))
    local missing = {}
    for _, flag in ipairs(flags) do
      -- '--flag[...]', '--flag=[...]' or {-j+,--jobs=}
      local escaped = flag:gsub("%-", "%%-")
      if not (text:find("'" .. escaped .. "[=%[]") or text:find("[{,]" .. escaped .. "[+=,}]")) then
        missing[#missing + 1] = flag
      end
    end
    assert.same({}, missing)
  end)

  it("has its own entry in the man page's OPTIONS", function()
    local text = assert(h.read(MAN))
    local options = assert(text:match("\n# OPTIONS\n(.-)\n# "), "no OPTIONS section")
    local missing = {}
    for _, flag in ipairs(flags) do
      local escaped = flag:gsub("%-", "%%-")
      -- an entry starts a line: "*--flag*", "*--flag* _VALUE_", "*-j*, *--jobs* _N_"
      local found = false
      for line in options:gmatch("[^\n]+") do
        if line:sub(1, 1) == "*" and line:find("%*" .. escaped .. "%*") then found = true end
      end
      if not found then missing[#missing + 1] = flag end
    end
    assert.same({}, missing)
  end)
end)

describe("zsh completion", function()
  it("is valid zsh and registers _explainer for explainer through compinit", function()
    if not zsh then
      pending("zsh is not installed (.ci/run installs it)")
      return
    end
    local _, err, code = sh("sh", "zsh -n " .. q(ZSH))
    assert.equal(0, code, err)
    local out
    out, err, code = sh("zsh", ([[
      fpath=(%s $fpath)
      autoload -Uz compinit && compinit -u -D
      autoload +X _explainer   # loads the file: a syntax error would show here
      print -r -- "$_comps[explainer]" "${+functions[_explainer]}"
    ]]):format(q(h.root .. "/completions")))
    assert.equal(0, code, err)
    assert.equal("", err)
    assert.equal("_explainer 1\n", out)
  end)
end)
