--- docs/lua-api.md names everything the Lua API exports: each module's functions and
-- fields (a `###` entry in the module's section), and nothing it no longer exports;
-- every option of a run, and every key of a document, a scene, the stats and their
-- scene records.
local h = require "helpers"
local lfs = require "lfs"

local DOC = h.root .. "/docs/lua-api.md"
local MODULES = {
  "explainer", "explainer.key", "explainer.artifact", "explainer.cache", "explainer.media",
  "explainer.log", "explainer.tool", "explainer.sweep", "explainer.settings", "explainer.http", "explainer.recipes.image",
  "explainer.recipes.audio", "explainer.recipes.voice", "explainer.recipes.video", "explainer.recipes.common",
  "explainer.recipes.animate", "explainer.estimate", "explainer.prices", "explainer.recipes.captions",
  "explainer.board",
  "explainer.recipes.film", "explainer.recipes.transitions",
}

-- The page's "## " sections: heading -> text (the heading line included).
local function sections()
  local text = assert(h.read(DOC), DOC .. " is missing")
  local list, current = {}, nil
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    if line:match("^## ") then
      current = line:sub(4)
      list[current] = {}
    end
    if current then list[current][#list[current] + 1] = line end
  end
  for k, lines in pairs(list) do list[k] = table.concat(lines, "\n") end
  return list
end

-- The subject of each "### " entry: the first `prefix.name` or `prefix:name` of the line
-- ("### `image.generate(scene, ...)`" -> "generate").
local function entry_names(section)
  local names = {}
  for line in section:gmatch("[^\n]+") do
    local name = line:match("^### `[%w_]+[%.:]([%w_]+)")
    if name then names[#names + 1] = name end
  end
  return names
end

local function escape(s) return (s:gsub("%p", "%%%0")) end

-- Is `name` the subject of a "### " entry of the section (`x.name(`, `x:name`, ...)?
local function has_entry(section, name)
  for line in section:gmatch("[^\n]+") do
    if line:match("^### ") and line:find("[%.:]" .. escape(name) .. "[^%w_]") then return true end
  end
  return false
end

-- The names of `keys` (a set) that the section never writes as code (`key`,
-- `key(...)`, `key = ...`).
local function unnamed(section, keys)
  local missing = {}
  for key in pairs(keys) do
    if not section:find("`" .. escape(key) .. "[^%w_]") then missing[#missing + 1] = key end
  end
  table.sort(missing)
  return missing
end

local function add_keys(set, t)
  for k in pairs(t) do set[k] = true end
end

describe("docs/lua-api.md", function()
  local page = sections()

  for _, module in ipairs(MODULES) do
    it("documents every name that require '" .. module .. "' exports", function()
      local section = page["`" .. module .. "`"]
      assert.is_string(section, "no section '## `" .. module .. "`'")
      local missing = {}
      for name in pairs(require(module)) do
        if type(name) == "string" and not has_entry(section, name) then
          missing[#missing + 1] = module .. "." .. name
        end
      end
      table.sort(missing)
      assert.same({}, missing, "undocumented: " .. table.concat(missing, ", "))
    end)

    it("has no entry for a name that require '" .. module .. "' no longer exports", function()
      local section = page["`" .. module .. "`"]
      assert.is_string(section, "no section '## `" .. module .. "`'")
      local exported, stale = require(module), {}
      local names = entry_names(section)
      assert.is_true(#names > 0, "no entries in the section of " .. module)
      for _, name in ipairs(names) do
        if exported[name] == nil then stale[#stale + 1] = module .. "." .. name end
      end
      assert.same({}, stale, "documented but not exported: " .. table.concat(stale, ", "))
    end)
  end

  it("names every option of orchestrate_workflow, and the hooks in their own section", function()
    local explainer = require "explainer"
    assert.same({}, unnamed(page["`explainer`"], explainer.OPTION_TYPES))
    local hooks = {}
    for key, kind in pairs(explainer.OPTION_TYPES) do
      if kind == "function" then hooks[key] = true end
    end
    assert.is_not_nil(next(hooks))
    assert.same({}, unnamed(page["Workflow scripts and their hooks"], hooks))
  end)

  it("names every key of a document and of a scene, over every script in the tree", function()
    local explainer = require "explainer"
    local doc_keys, scene_keys = {}, {}
    local files = { h.root .. "/examples/sample.txt" }
    for _, dir in ipairs { h.root .. "/tests/fixtures", h.root .. "/fuzz/corpus" } do
      for entry in lfs.dir(dir) do
        if entry:match("%.txt$") then files[#files + 1] = dir .. "/" .. entry end
      end
    end
    for _, path in ipairs(files) do
      local doc = explainer.parse(path)
      if doc then
        add_keys(doc_keys, doc)
        for _, scene in ipairs(doc.scenes) do add_keys(scene_keys, scene) end
      end
    end
    assert.truthy(scene_keys.final_prompt, "some script has a final prompt")
    assert.same({}, unnamed(page["The document"], doc_keys))
    assert.same({}, unnamed(page["The scene"], scene_keys))
  end)

  it("names every key of the stats and of their scene records", function()
    local explainer = require "explainer"
    local dir = h.tmpdir()
    local film = h.write(dir .. "/film.txt", h.script(3))
    local stat_keys, record_keys = {}, {}
    local function run(extra)
      local opts = { explainer_path = film, output_base_dir = dir, progress = "quiet",
        process_scene = function(scene)
          if scene.scene_number == 1 then return nil, "no" end
          return { ok = true }
        end }
      for k, v in pairs(extra) do opts[k] = v end
      local stats = assert(explainer.orchestrate_workflow(opts))
      add_keys(stat_keys, stats)
      for _, r in ipairs(stats.scenes) do add_keys(record_keys, r) end
    end
    run {}
    run { dry_run = true }
    local finished = assert(explainer.finish_only { explainer_path = film, output_base_dir = dir })
    add_keys(stat_keys, finished)
    h.rm_rf(dir)
    -- Set only when a signal stops a run (lexplainer.c push_stats).
    stat_keys.interrupted = true
    for _, key in ipairs { "results", "failures", "dry_run", "finish_only" } do
      assert.truthy(stat_keys[key], key)
    end
    assert.truthy(record_keys.error)
    assert.same({}, unnamed(page["The stats"], stat_keys))
    assert.same({}, unnamed(page["The stats"], record_keys))
  end)
end)
