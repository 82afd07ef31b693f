-- explainer.log: messages that follow the run's progress mode, and a task's
-- progress (the film's join) without flooding a log.
local log = require "explainer.log"
local settings = require "explainer.settings"
local cjson = require "cjson"

describe("explainer.log.progress", function()
  local written, mode

  before_each(function()
    written, mode = {}, settings.progress
    log.output = { write = function(_, ...) written[#written + 1] = table.concat { ... } end }
  end)
  after_each(function()
    log.output = io.stderr
    settings.progress = mode
  end)

  local function run(fractions)
    local p = log.progress("Joining the film ...")
    for _, f in ipairs(fractions) do p.update(f) end
    p.done()
    return table.concat(written)
  end

  local many = {}
  for i = 0, 200 do many[#many + 1] = i / 200 end

  it("prints only its line in a log (not a terminal), however often it moves", function()
    settings.progress = "auto"
    assert.equal("Joining the film ...\n", run(many))
    written = {}
    settings.progress = "plain"
    assert.equal("Joining the film ...\n", run(many))
  end)

  it("prints nothing when quiet", function()
    settings.progress = "quiet"
    assert.equal("", run(many))
  end)

  it("is a message, then a progress event every 10% and at the end, with --progress json", function()
    settings.progress = "json"
    local events = {}
    for line in run({ 0, 0.05, 0.12, 0.13, 0.5, 0.97 }):gmatch("[^\n]+") do events[#events + 1] = cjson.decode(line) end
    assert.same({ "message", "Joining the film ..." }, { events[1].event, events[1].message })
    local percents = {}
    for i = 2, #events do
      assert.same({ "progress", "Joining the film ..." }, { events[i].event, events[i].task })
      percents[#percents + 1] = events[i].percent
    end
    assert.same({ 12, 50, 97, 100 }, percents)
  end)
end)
