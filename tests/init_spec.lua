-- `explainer init`: a blank script in the richest dialect (lua/explainer/template.lua).
local h = require "helpers"
local cjson = require "cjson"
local explainer = require "explainer"
local template = require "explainer.template"

describe("explainer init", function()
  local dir

  before_each(function() dir = h.tmpdir() end)
  after_each(function() h.rm_rf(dir) end)

  it("writes a blank script to stdout when no FILE is given", function()
    local out, err, code = h.run { "init" }
    assert.equal(0, code, err)
    assert.matches("^# %[Title%] %- 12 SCENES\n", out)
    local doc = explainer.parse_string(out, "blank")
    assert.equal(12, #doc.scenes)
    assert.same({}, doc.warnings)
  end)

  it("writes the richest dialect: narration, layout, iterative and animation prompts", function()
    local doc = explainer.parse_string(template.render { scenes = 3, format = "16:9", title = "Tides" })
    assert.equal("Tides", doc.title)
    assert.equal(3, doc.declared_scenes)
    assert.equal("16:9 HORIZONTAL", doc.format)
    assert.equal(18, doc.total_duration)
    assert.same({ 0, 1, 2 }, { doc.scenes[1].scene_number, doc.scenes[2].scene_number,
      doc.scenes[3].scene_number })
    assert.is_true(doc.scenes[1].no_narration, "scene 0 is a silent title card")
    for i = 2, 3 do
      local s = doc.scenes[i]
      assert.truthy(s.narration, "narration")
      assert.truthy(s.layout and s.layout:match("^%- Background:"), "layout bullets")
      assert.truthy(s.prompt and s.prompt:match("^Initial:"), "a Nano Banana chain")
      assert.equal(2, #s.iterations)
      assert.truthy(s.animation_prompt and s.animation_prompt:match("^16:9 horizontal format%."))
      assert.equal(6, s.duration)
    end
    assert.equal(1, explainer.parse_string(template.render { scenes = 1 }).scenes[1].scene_number,
      "a one-scene script has scene 1, narrated")
  end)

  it("gives its scenes layout patterns from the catalogue, neighbours never the same", function()
    local layout = require "explainer.recipes.layout"
    local doc = explainer.parse_string(template.render { scenes = 12 })
    local seen = {}
    for i, s in ipairs(doc.scenes) do
      local spec = layout.parse(s.layout)
      assert.truthy(spec.pattern, "scene " .. s.scene_number .. " has a known pattern")
      assert.equal("name", spec.pattern_how)
      if i > 1 then assert.not_equal(doc.scenes[i - 1].pattern_name, spec.pattern.name) end
      s.pattern_name = spec.pattern.name
      seen[spec.pattern.name] = true
    end
    local kinds = 0
    for _ in pairs(seen) do kinds = kinds + 1 end
    assert.is_true(kinds >= 10, kinds .. " patterns in 12 scenes")
  end)

  it("round-trips with check: nothing but placeholders, and exit 0", function()
    local path = dir .. "/new.txt"
    local _, err, code = h.run { "init", path, "--scenes", "5", "--format", "1:1" }
    assert.equal(0, code, err)
    assert.matches("wrote .*new%.txt %(5 scenes%)", err)
    local out
    out, err, code = h.run { "check", path, "--json" }
    assert.equal(0, code, err)
    local list = cjson.decode(out)
    assert.is_true(#list > 5)
    for _, d in ipairs(list) do
      assert.equal("placeholder", d.rule, d.message)
    end
    _, err, code = h.run { "check", path, "--disable", "placeholder" }
    assert.equal(0, code)
    assert.matches("new%.txt: no problems", err)
  end)

  it("refuses to overwrite an existing file with exit 2", function()
    local path = h.write(dir .. "/mine.txt", "my own words\n")
    local _, err, code = h.run { "init", path }
    assert.equal(2, code)
    assert.matches("mine%.txt: already exists", err)
    assert.equal("my own words\n", h.read(path))
  end)

  it("rejects a bad --scenes or --format with exit 2", function()
    local _, err, code = h.run { "init", "--scenes", "0" }
    assert.equal(2, code)
    assert.matches("%-%-scenes", err)
    _, err, code = h.run { "init", "--format", "4:3" }
    assert.equal(2, code)
    assert.matches("expected 9:16, 16:9 or 1:1, got '4:3'", err)
    assert.has_error(function() template.render { format = "4:3" } end)
  end)
end)
