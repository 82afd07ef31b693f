-- explainer.recipes.layout: a scene's Layout Design read and placed (pure Lua, no drawing).
local layout = require "explainer.recipes.layout"
local colour = require "explainer.recipes.colour"
local captions = require "explainer.recipes.captions"
local frame = require "explainer.recipes.frame"

local function pos(text, strict)
  local p = layout.position(text, strict)
  return { p.v or false, p.h or false }
end

-- Is box a inside box b?
local function inside(a, b)
  return a.x >= b.x and a.y >= b.y and a.x + a.w <= b.x + b.w and a.y + a.h <= b.y + b.h
end

local function overlap(a, b)
  return math.min(a.x + a.w, b.x + b.w) > math.max(a.x, b.x) and math.min(a.y + a.h, b.y + b.h) > math.max(a.y, b.y)
end

describe("layout", function()
  describe("position words", function()
    it("reads vertical places, most specific first", function()
      assert.same({ "top third", false }, pos("top third"))
      assert.same({ "top third", false }, pos("Upper third (safe zone)"))
      assert.same({ "lower third", false }, pos("lower third"))
      assert.same({ "lower third", false }, pos("bottom third"))
      assert.same({ "top", false }, pos("top"))
      assert.same({ "top", false }, pos("upper"))
      assert.same({ "bottom", false }, pos("bottom"))
      assert.same({ "bottom", false }, pos("lower"))
    end)

    it("reads horizontal places, centre in any spelling, and both at once", function()
      assert.same({ "top", "center" }, pos("Large, top-center (safe zone), bold"))
      assert.same({ "top", "center" }, pos("Center-top"))
      assert.same({ "center", "center" }, pos("centred"))
      assert.same({ "center", "center" }, pos("middle"))
      assert.same({ false, "left" }, pos("left"))
      assert.same({ false, "right" }, pos("right"))
      assert.same({ "top third", "left" }, pos("Large bold sans-serif, top third, left-aligned (safe zone)"))
    end)

    it("knows corners, alignment, weight, size and 'below'", function()
      local p = layout.position("Top-left corner (safe zone), bold")
      assert.same({ "top", "left", true, "left", "bold" }, { p.v, p.h, p.corner, p.align, p.weight })
      p = layout.position("bottom-right corner, small")
      assert.same({ "bottom", "right", true, "small" }, { p.v, p.h, p.corner, p.size })
      assert.equal("huge", layout.position("extra large").size)
      assert.equal("medium", layout.position("Medium weight, directly below the title").weight)
      assert.is_true(layout.position("Medium weight, directly below the title").below)
      assert.equal("semibold", layout.position("semi-bold").weight)
    end)

    it("reads visual elements' places only where they speak of the frame", function()
      assert.same({ "bottom", "left" }, pos("Outdoor heat pump unit with a spinning fan, bottom-left, frost", true))
      assert.same({ false, "left" }, pos("Scale bar from -273 °C to +20 °C, vertical on the left", true))
      assert.same({ false, false }, pos("Marker at -10 °C sitting far above the bottom of the scale", true))
      assert.same({ "top third", false }, pos("Wall-mounted indoor unit, upper third", true))
      assert.is_true(layout.position("Row of houses along the bottom", true).span)
    end)

    it("names positions as check compares them", function()
      assert.equal("top center", layout.position_name(layout.position("top-center")))
      assert.equal("top third left", layout.position_name(layout.position("top third, left-aligned")))
      assert.is_nil(layout.position_name(layout.position("bold")))
    end)
  end)

  describe("patterns", function()
    it("has a catalogue of named patterns with boxes for tall and wide frames", function()
      assert.is_true(#layout.PATTERNS >= 25)
      local names = {}
      for _, p in ipairs(layout.PATTERNS) do
        assert.is_nil(names[p.name], p.name)
        names[p.name] = true
        assert.truthy(p.tall and p.tall.text and p.tall.visual, p.name)
        for _, f in ipairs { p.tall.text, p.tall.visual, (p.wide or p.tall).text, (p.wide or p.tall).visual } do
          assert.is_true(f[1] >= 0 and f[2] >= 0 and f[1] + f[3] <= 1.0001 and f[2] + f[4] <= 1.0001, p.name)
        end
      end
    end)

    it("finds a pattern by its name, an alias, or the longest alias a description holds", function()
      assert.equal("Top-Heavy Asymmetric", layout.pattern("Top-Heavy Asymmetric").name)
      assert.equal("name", select(2, layout.pattern("Top-Heavy Asymmetric")))
      assert.equal("Vertical 50/50", layout.pattern("Vertical 50/50").name)
      assert.equal("Horizontal 60/40", layout.pattern("horizontal 60-40").name)
      assert.equal("Z-Pattern", layout.pattern("Z-pattern").name)
      assert.equal("F-Pattern", layout.pattern("F pattern").name)
      assert.equal("Centered", layout.pattern("centered").name)
      assert.equal("Centered", layout.pattern("Hero-centered diagram with a corner title").name)
      assert.equal("Process Flow", layout.pattern("Left-to-right process flow with a side gauge").name)
      assert.equal("Comparison", layout.pattern("Two-column contrast, cold left and warm right").name)
      assert.equal("Frame Within Frame", layout.pattern("frame within a frame").name)
      assert.equal("Full-Bleed Overlay", layout.pattern("Full-bleed photo with text overlay").name)
    end)

    it("falls back on telling words, and knows when it knows nothing", function()
      local p, how = layout.pattern("Vertical scale on the left, message and icon on the right")
      assert.same({ "Vertical 50/50", "words" }, { p.name, how })
      assert.is_nil(layout.pattern("Wibble wobble"))
    end)

    it("infers a pattern for a layout that names none, from where its text goes", function()
      local spec = layout.for_scene { title = "t", layout = '- Text: "Hi" - bottom third\n- Visual Elements:\n  - A cat' }
      assert.equal("Bottom-Heavy Asymmetric", spec.pattern.name)
    end)
  end)

  describe("parse", function()
    local LAYOUT = table.concat({
      "- Background: Split gradient, icy blue on the left fading into warm amber on the right",
      '- Text: "How a Heat Pump Works" - Large bold sans-serif, top third, left-aligned (safe zone)',
      '- Subtitle: "Moving heat, not making it" - Medium weight, directly below the title',
      "- Visual Elements:",
      "  - Outdoor heat pump unit with a spinning fan, bottom-left, frost on its fins",
      "  - Thin curved arrow from the unit to the house",
      "- Layout Pattern: Top-Heavy Asymmetric",
      "- Text Animation: slide",
    }, "\n")

    it("reads texts with their roles and positions, visuals with labels and emoji, pattern and animation", function()
      local spec = layout.parse(LAYOUT)
      assert.equal(2, #spec.texts)
      assert.same({ "How a Heat Pump Works", "title", "top third", "left" },
        { spec.texts[1].text, spec.texts[1].role, spec.texts[1].position.v, spec.texts[1].position.h })
      assert.same({ "Moving heat, not making it", "subtitle", true },
        { spec.texts[2].text, spec.texts[2].role, spec.texts[2].position.below })
      assert.equal(2, #spec.visuals)
      assert.equal("Outdoor heat pump unit", spec.visuals[1].label)
      assert.equal("Thin curved arrow", spec.visuals[2].label)
      assert.equal("➡️", spec.visuals[2].emoji)
      assert.equal("Top-Heavy Asymmetric", spec.pattern.name)
      assert.equal("slide", spec.animation)
    end)

    it("reads unquoted text, curly quotes, and inline visual elements", function()
      local spec = layout.parse("- Text: New germ - top third\n- Headline: “Big news” - center\n"
        .. "- Visual Elements: A spiky coral virus in the lower half")
      assert.same({ "New germ", "Big news" }, { spec.texts[1].text, spec.texts[2].text })
      assert.equal("🦠", spec.visuals[1].emoji)
      assert.equal("bottom", spec.visuals[1].position.v)
    end)

    it("gives a scene without a layout its title, centred", function()
      local spec = layout.for_scene { title = "Opening Title" }
      assert.same({ "Opening Title", "center", "center" },
        { spec.texts[1].text, spec.texts[1].position.v, spec.texts[1].position.h })
      assert.is_true(spec.titled)
      assert.same({}, layout.for_scene({ title = "Quiet", layout = "- Text: none" }).texts)
    end)
  end)

  describe("resolve", function()
    local scene = { title = "t", layout = table.concat({
      '- Text: "Top left" - top-left corner, bold',
      '- Text: "At the bottom" - bottom, centered',
      "- Visual Elements:", "  - A house, bottom-right", "  - A tree", "  - A sun, top-right corner",
    }, "\n") }

    for _, size in ipairs { { 1080, 1920 }, { 1920, 1080 }, { 1080, 1080 } } do
      local w, h = size[1], size[2]
      it(("keeps text in the safe zone, out of the caption band, where its words say (%dx%d)"):format(w, h), function()
        local reserve = math.floor(h * 0.25)
        local r = layout.resolve(layout.for_scene(scene), w, h, { reserve = reserve })
        assert.equal(2, #r.groups)
        for _, g in ipairs(r.groups) do
          assert.is_true(inside(g.box, r.safe))
          assert.is_true(g.box.y + g.box.h <= h - reserve)
        end
        local top, bottom = r.groups[1].box, r.groups[2].box
        assert.is_true(top.x == r.safe.x and top.y == r.safe.y and top.w < r.safe.w)
        assert.equal("left", r.groups[1].align)
        assert.is_true(bottom.y > h / 2 and bottom.y + bottom.h == h - reserve)
        assert.same({ "center", "bottom" }, { r.groups[2].align, r.groups[2].anchor })
      end)

      it(("places visual elements where they say, without covering each other or the text (%dx%d)"):format(w, h),
        function()
          local one = { title = "t", layout = scene.layout:gsub('\n%- Text: "At the bottom"[^\n]*', "") }
          local r = layout.resolve(layout.for_scene(one), w, h, { reserve = math.floor(h * 0.25) })
          assert.equal(3, #r.visuals)
          local house = r.visuals[1].box
          assert.is_true(house.x > w / 2 and house.y > h / 2)
          for i, v in ipairs(r.visuals) do
            assert.is_true(inside(v.box, r.safe))
            for j = i + 1, #r.visuals do assert.is_false(overlap(v.box, r.visuals[j].box)) end
            assert.is_false(overlap(v.box, r.groups[1].box), v.label)
          end
        end)
    end

    -- More placed elements than the grid has free cells: they share cells, never overlap.
    local crowded = {
      { '- Text: "Title" - top third', "- Visual Elements:", "  - A dog, left", "  - A cat, left", "  - A car, left",
        "  - A tree, left", "  - A book, left", "  - A phone, left", "  - A rocket, left" },
      { '- Text: "Title" - top third', "- Visual Elements:", "  - A dog, top-left", "  - A cat, top-left",
        "  - A car, top-left", "  - A rocket, center", "  - A tree, bottom-right", "  - A book, bottom-right",
        "  - A phone, bottom" },
      { '- Text: "Title" - center', '- Subtitle: "Sub" - bottom', "- Visual Elements:", "  - A dog, left",
        "  - A cat, right", "  - A car", "  - A tree", "  - A book, top", "  - A phone, bottom",
        "  - A rocket, along the top", "  - A lamp", "  - A moon, right", "  - A star, left", "  - A key" },
    }
    for ci, lines in ipairs(crowded) do
      for _, size in ipairs { { 1080, 1920 }, { 1920, 1080 }, { 1080, 1080 } } do
        it(("shares cells among more placed elements than there are free, never overlapping (%d, %dx%d)")
          :format(ci, size[1], size[2]), function()
          local sc = { title = "t", narration = "Words.", layout = table.concat(lines, "\n") }
          local r = layout.resolve(layout.for_scene(sc), size[1], size[2],
            { reserve = frame.reserve(size[1], size[2]) })
          local n = 0
          for _, l in ipairs(lines) do if l:find("^  %- ") then n = n + 1 end end
          assert.equal(n, #r.visuals)
          for i, v in ipairs(r.visuals) do
            assert.is_true(inside(v.box, r.safe), v.label)
            assert.is_true(v.box.w >= 8 and v.box.h >= 8, v.label)
            for j = i + 1, #r.visuals do
              assert.is_false(overlap(v.box, r.visuals[j].box), v.label .. " on " .. r.visuals[j].label)
            end
            for _, g in ipairs(r.groups) do assert.is_false(overlap(v.box, g.box), v.label .. " on the text") end
          end
        end)
      end
    end

    it("puts a pattern's text and visual where the catalogue says when the words say nothing", function()
      local spec = layout.for_scene { title = "t", layout = '- Text: "Words"\n- Visual Elements:\n  - A cat\n'
        .. "- Layout Pattern: Vertical 50/50" }
      local r = layout.resolve(spec, 1920, 1080)
      assert.is_true(r.groups[1].box.x + r.groups[1].box.w <= 960)
      assert.is_true(r.visuals[1].box.x >= 960)
    end)
  end)

  describe("emoji", function()
    it("goes by the words that matter: a phrase before the words in it, the thing before its surroundings", function()
      local unit = layout.emoji_for("Outdoor heat pump unit",
        "Outdoor heat pump unit with a spinning fan, bottom-left, frost on its fins")
      assert.equal("⚙️", unit)
      assert.equal("💧", layout.emoji_for("Warm liquid", "Warm liquid on the left, cold mist on the right of the valve"))
      assert.equal("♨️", layout.emoji_for("Orange heat waves", "Orange heat waves flowing down from the unit"))
      assert.equal("🔌", layout.emoji_for("Electric plug icon", "Electric plug icon feeding the compressor, bottom"))
      assert.equal("📏", layout.emoji_for("Scale bar", "Scale bar from -273 °C to +20 °C, vertical on the left"))
      assert.equal("🔁", layout.emoji_for("Miniature version of the full…",
        "Miniature version of the full loop, bottom-right, with this step highlighted"))
    end)

    it("never picks what the words negate, nor a temperature they contradict: no icon rather than a wrong one",
      function()
        assert.equal("♨️", layout.emoji_for("Three to four orange…", "Three to four orange flame-free heat blocks"))
        assert.is_nil(layout.emoji_for("Crossed-out gas flame icon"))
        assert.is_nil(layout.emoji_for("A lawn with no snow"))
        assert.is_nil(layout.emoji_for("Cold radiator"))
        assert.is_nil(layout.emoji_for("Warm ice pack"))
        assert.is_nil(layout.emoji_for("Cold and warm sides", "Cold and warm sides, split down the middle"))
        assert.equal("❄️", layout.emoji_for("Snowy roof"))
        assert.equal("🔥", layout.emoji_for("Campfire flame"))
      end)

    it("knows the thing a phrase names, which way an arrow points, and gives none rather than a wrong one", function()
      local want = {
        ["Fire extinguisher"] = "🧯", ["Arrow pointing up"] = "⬆️", ["Arrow pointing down"] = "⬇️",
        ["Arrow pointing left"] = "⬅️", ["Arrow pointing right"] = "➡️", ["Up arrow"] = "⬆️",
        ["A downward arrow"] = "⬇️", ["A broken heart"] = "💔", ["Snow globe"] = "❄️", ["Gas station pump"] = "⛽",
        ["Lightbulb"] = "💡", ["A snowman"] = "☃️", ["A bicycle"] = "🚲", ["A big red apple"] = "🍎",
        ["A heart"] = "❤️", ["A delivery truck"] = "🚚",
      }
      for label, e in pairs(want) do assert.equal(e, layout.emoji_for(label), label) end
      assert.is_nil(layout.emoji_for("Hand-truck icon"))
      assert.is_nil(layout.emoji_for("A hand truck", "A hand truck stacked with boxes"))
    end)

    it("draws only emoji the colour emoji font has", function()
      local file = io.popen("fc-match -f '%{file}' 'Noto Color Emoji'"):read("a")
      local charset = io.popen("fc-query -f '%{charset}' '" .. file .. "'"):read("a")
      local function has(cp)
        for a, b in charset:gmatch("(%x+)%-?(%x*)") do
          if cp >= tonumber(a, 16) and cp <= tonumber(b ~= "" and b or a, 16) then return true end
        end
      end
      for _, label in ipairs { "Fire extinguisher", "Arrow pointing up", "Arrow pointing down", "Arrow pointing left",
                               "A broken heart", "Gas station pump", "Lightbulb", "A snowman", "A bicycle",
                               "A big red apple", "Snow globe" } do
        local e = assert(layout.emoji_for(label), label)
        for _, cp in utf8.codes(e) do
          if cp ~= 0xFE0F then assert.is_true(has(cp), ("%s: U+%X not in %s"):format(label, cp, file)) end
        end
      end
    end)

    it("gives the bundled example's elements their icons, none of them the opposite temperature", function()
      local explainer = require "explainer"
      local doc = assert(explainer.parse((os.getenv("EXPLAINER_ROOT") or ".") .. "/examples/sample.txt"))
      local seen = {}
      for _, sc in ipairs(doc.scenes) do
        for _, v in ipairs(layout.for_scene(sc).visuals) do seen[v.label] = v.emoji or false end
      end
      assert.equal("⚙️", seen["Outdoor heat pump unit"])
      assert.equal("💧", seen["Warm liquid"])
      assert.equal("🏠", seen["Small house silhouette"])
      assert.equal("🌡️", seen["Thermometer reading -10 °C"])
    end)
  end)

  describe("where elements go in a 9:16 frame", function()
    local W, H = 1080, 1920
    local function scene(narration)
      return { scene_number = 0, title = "Opening", narration = narration, no_narration = not narration or nil,
        layout = table.concat({
          '- Text: "How a Heat Pump Works" - Large bold sans-serif, top third, left-aligned (safe zone)',
          '- Subtitle: "Moving heat, not making it" - Medium weight, directly below the title',
          "- Visual Elements:",
          "  - Outdoor heat pump unit with a spinning fan, bottom-left, frost on its fins",
          "  - Small house silhouette with a glowing window, bottom-right",
        }, "\n") }
    end
    -- The top of the band burned-in captions use, at most three lines of them.
    local st = captions.style(W, H)
    local band_top = H - st.margin_v - st.max_lines * st.size * 1.25 - 2 * st.box

    it("puts bottom-left and bottom-right elements in the lower part, just above the caption band", function()
      local d = frame.design(scene("Heat pumps move heat."), W, H)
      assert.equal(2, #d.plate.visuals)
      for _, v in ipairs(d.plate.visuals) do
        local bottom = v.box.y + v.box.h
        assert.is_true(v.box.y + v.box.h / 2 > H / 2, v.label .. " above the middle")
        assert.is_true(bottom <= band_top, v.label .. " in the caption band")
        assert.is_true(bottom >= band_top - H * 0.05, ("%s ends at %d, the band starts at %d"):format(v.label, bottom,
          band_top))
      end
    end)

    it("puts them lower in a silent scene, which has no captions, but never where a phone's buttons are", function()
      local d = frame.design(scene(nil), W, H)
      for _, v in ipairs(d.plate.visuals) do
        local bottom = v.box.y + v.box.h
        assert.is_true(bottom >= H * 0.75, ("%s ends at %.0f%% of the frame"):format(v.label, 100 * bottom / H))
        assert.is_true(v.box.y + v.box.h / 2 > H * 0.6, v.label)
        assert.is_true(bottom <= H - st.margin_v, v.label .. " where a phone's buttons are")
      end
      local left, right = d.plate.visuals[1].box, d.plate.visuals[2].box
      assert.is_true(left.x + left.w < W / 2 and right.x > W / 2)
    end)
  end)

  describe("two-column patterns", function()
    -- The distinct left edges of boxes: their columns.
    local function columns(r)
      local xs, n = {}, 0
      for _, v in ipairs(r.visuals) do
        if not xs[v.box.x] then n = n + 1 end
        xs[v.box.x] = true
      end
      return n
    end

    it("draws a two-column contrast as two columns, cold on the left and warm on the right", function()
      local spec = layout.for_scene { title = "The Puzzle", layout = table.concat({
        '- Text: "Heat from cold air?" - Large, top-center (safe zone), bold',
        "- Visual Elements:",
        "  - Outdoor unit half-buried in snow, left side",
        "  - Thermometer reading -10 °C, top-right corner",
        "  - Cozy living room seen through a window, right side, warm orange light",
        "  - Large question mark between the unit and the window",
        "- Layout Pattern: Two-column contrast, cold left and warm right",
      }, "\n") }
      for _, size in ipairs { { 1080, 1920 }, { 1920, 1080 }, { 1080, 1080 } } do
        local w, h = size[1], size[2]
        local r = layout.resolve(spec, w, h, { reserve = frame.reserve(w, h) })
        assert.equal(4, #r.visuals)
        assert.equal(2, columns(r), ("%dx%d"):format(w, h))
        local unit, thermometer, room = r.visuals[1].box, r.visuals[2].box, r.visuals[3].box
        assert.is_true(unit.x + unit.w <= w / 2 and thermometer.x >= w / 2 and room.x >= w / 2)
        assert.is_true(thermometer.y < room.y, "the top-right thermometer above the room")
        for i, v in ipairs(r.visuals) do
          assert.is_true(inside(v.box, r.safe))
          assert.is_false(overlap(v.box, r.groups[1].box), v.label)
          for j = i + 1, #r.visuals do assert.is_false(overlap(v.box, r.visuals[j].box)) end
        end
      end
    end)

    it("gives 'versus', 'comparison', 'before and after' and 'two-column' two columns too", function()
      for _, words in ipairs { "Cold versus warm", "Comparison, cost per year", "Before and after" } do
        local spec = layout.for_scene { title = "t", layout = '- Text: "A or B" - top\n- Visual Elements:\n'
          .. "  - A gas furnace\n  - A heat pump\n  - A bill\n- Layout Pattern: " .. words }
        assert.equal("Comparison", spec.pattern.name, words)
        assert.equal(2, columns(layout.resolve(spec, 1080, 1920, { reserve = frame.reserve(1080, 1920) })), words)
      end
      -- a 50/50 split: the text one column, its elements the other; or two under a text at the top
      local split = '- Text: "A or B"\n- Visual Elements:\n  - A gas furnace\n  - A heat pump\n'
        .. "- Layout Pattern: Two-column"
      local r = layout.resolve(layout.for_scene { title = "t", layout = split }, 1080, 1920)
      assert.equal(1, columns(r))
      assert.is_true(r.groups[1].box.x + r.groups[1].box.w <= r.visuals[1].box.x)
      r = layout.resolve(layout.for_scene { title = "t", layout = split:gsub('"A or B"', '"A or B" - top') }, 1080, 1920)
      assert.equal(2, columns(r))
    end)
  end)

  describe("background", function()
    local palette = colour.palette("navy and orange")

    it("takes its colours and direction from its words", function()
      local bg = layout.background("Split gradient, icy blue on the left fading into warm amber on the right", palette)
      assert.equal("east", bg.direction)
      assert.is_true(colour.luminance(bg.from) > colour.luminance(colour.find("blue")[1].hex))
      assert.equal(colour.find("amber")[1].hex, bg.to)
      assert.equal("north", layout.background("from orange at the bottom to blue at the top", palette).direction)
      assert.equal("grid", layout.background("Clean white with a faint blueprint grid", palette).texture)
    end)

    it("falls back on the Style line's palette", function()
      local bg = layout.background("A cozy room", palette)
      assert.equal(palette.background, bg.from)
    end)
  end)
end)
