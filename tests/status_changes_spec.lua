-- What `status` names as changed: what a person changed, not what follows.
local h = require "helpers"

describe("status after an edit", function()
  local dir

  before_each(function() dir = h.tmpdir() end)
  after_each(function() h.rm_rf(dir) end)

  local function script(silent_at)
    local out = { "# T - 3 SCENES", "" }
    local words = { "First words here.", "Second words here." }
    local w = 0
    for n = 1, 3 do
      if n == silent_at then
        out[#out + 1] = ("## SCENE %d: S%d (6s) - NO NARRATION"):format(n, n)
      else
        w = w + 1
        out[#out + 1] = ("## SCENE %d: S%d (6s)"):format(n, n)
        out[#out + 1] = ('Narration: "%s"'):format(words[w])
      end
      out[#out + 1] = ""
    end
    return table.concat(out, "\n")
  end

  it("names the narration, not voice, speed, backend and recipe, when scenes are renumbered", function()
    local film = h.write(dir .. "/t.txt", script(2))
    local _, err, code = h.run { "audio", film, "--output-dir", dir .. "/o" }
    assert.equal(0, code, err)
    -- the silent scene moves to the end: scene 2 gains words, scene 3 loses them
    h.write(film, script(3))
    local out
    out, err, code = h.run { "status", "audio", film, "--output-dir", dir .. "/o" }
    assert.equal(0, code, err)
    assert.matches("Scene 1%s+fresh", out)
    assert.matches("Scene 2%s+changed: narration%s+S2", out)
    assert.matches("Scene 3%s+changed: narration%s+S3", out)
  end)
end)
