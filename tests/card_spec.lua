-- The offline storyboard card: what it shows, its colours, emoji, the frame filled.
local explainer = require "explainer"
local image = require "explainer.recipes.image"
local util = require "mock.util"

local SCRIPT = [[
# Cards - 3 SCENES
Style: Flat vector, navy and orange palette
Format: 9:16 VERTICAL

## SCENE 1: The Loop (6 seconds)

Narration: "It goes round."

Layout Design:
- Background: Clean white with a faint grid
- Text: "A closed loop" - Top-left corner, bold
- Visual Elements:
  - Pipe loop filling the center
  - Coil on the bottom edge,
    labelled in blue
- Aesthetic: Schematic, orderly

Nano Banana Iterative Prompt:
"Initial: A flat vector schematic of a closed pipe loop, a blue coil below, an orange one above. | ]] ..
[[Iteration 1: Make all labels the same size. | Iteration 2: Thin the grid."

Animation Prompt for AI Video Model:
"Droplets flow around the loop."

## SCENE 2: Two Steps (6 seconds)

Narration: "First a sketch, then the final."

Image Generation Prompts (2-Step Workflow):
Initial: "A rough sketch of a lighthouse."
Final Prompt: "The lighthouse at dusk, beam sweeping, warm light."

## SCENE 3: Only Motion (4 seconds)

Narration: "Things move."

Animation Prompt for AI Video Model:
"Everything drifts slowly to the left."
]]

local function command(argv)
  local r = assert(explainer.exec(argv, { timeout = 60 }))
  assert(r.ok, table.concat(argv, " ") .. ": " .. r.stderr)
  return r.stdout
end

-- The share of pixels in a region that are strongly warm and saturated
-- (red well above blue): colour emoji, never the navy/grey card palette.
local function warm_share(path, geometry)
  return tonumber(command { "convert", path, "-crop", geometry, "+repage",
    "-fx", "(r-b)>0.45 && r>0.6", "-format", "%[fx:mean]", "info:" })
end

-- The lowest row that differs from the card's background (the body's end).
local function content_bottom(path, band)
  local out = command { "convert", path, "-crop", "100%x100%+0+" .. band, "+repage", "-fuzz", "6%",
    "-trim", "-format", "%[fx:page.y+h]", "info:" }
  return tonumber(out) + band
end

describe("the storyboard card", function()
  local document, dir
  setup(function() document = assert(explainer.parse_string(SCRIPT, "cards")) end)
  before_each(function() dir = util.tmpdir() end)
  after_each(function() util.rmtree(dir) end)

  describe("what it shows", function()
    it("keeps the layout's bullets as bullets, with their levels and labels", function()
      local c = image.card_content(document.scenes[1])
      assert.same({ 1, 1, 1, 2, 2, 1 }, (function()
        local levels = {}
        for i, item in ipairs(c.layout) do levels[i] = item.level end
        return levels
      end)())
      assert.same({ level = 1, label = "Background", text = "Clean white with a faint grid" }, c.layout[1])
      assert.same({ level = 1, label = "Visual Elements", text = "" }, c.layout[3])
      assert.equal("Coil on the bottom edge, labelled in blue", c.layout[5].text)
    end)

    it("reads bullets marked with •, numbers and plain lines too", function()
      local c = image.card_content { scene_number = 1, title = "t",
        layout = "• One\n  ◦ Under one\n1. First\n2) Second\nPlain line\n  that goes on" }
      assert.same({ { level = 1, text = "One" }, { level = 2, text = "Under one" },
                    { level = 1, text = "First", number = "1." }, { level = 1, text = "Second", number = "2)" },
                    { level = 1, text = "Plain line that goes on", plain = true } }, c.layout)
      assert(image.draw_card({ scene_number = 1, title = "t", layout = "1. First\nPlain line" },
        dir .. "/numbers.png", 540, 960))
    end)

    it("shows the image prompt and its Nano Banana iterations in order", function()
      local c = image.card_content(document.scenes[1])
      assert.equal("IMAGE PROMPT", c.prompt_label)
      assert.equal("A flat vector schematic of a closed pipe loop, a blue coil below, an orange one above.", c.prompt)
      assert.same({ "Make all labels the same size.", "Thin the grid." }, c.iterations)
    end)

    it("shows a 2-step scene's final prompt, not its initial one", function()
      local c = image.card_content(document.scenes[2])
      assert.equal("FINAL PROMPT", c.prompt_label)
      assert.equal("The lighthouse at dusk, beam sweeping, warm light.", c.prompt)
    end)

    it("falls back to the animation prompt when a scene has neither prompt nor layout", function()
      local c = image.card_content(document.scenes[3])
      assert.equal("ANIMATION", c.prompt_label)
      assert.equal("Everything drifts slowly to the left.", c.prompt)
      assert.same({}, c.layout)
    end)

    it("says a silent scene is silent in its header", function()
      local c = image.card_content({ scene_number = 4, title = "Quiet", duration = 3, no_narration = true })
      assert.equal("SCENE 4  ·  3 s  ·  NO NARRATION", c.header)
    end)
  end)

  describe("colours from the Style line", function()
    it("uses the colours the style names, in order", function()
      local p = image.palette("Flat vector, navy and orange palette")
      assert.same({ "#1f3a68", "#e8762b" }, { p.named[1], p.named[2] })
      assert.equal("#1f3a68", p.band)
    end)

    it("takes hex codes as they are written", function()
      assert.same({ "#0a7e8c", "#f25c05" }, image.palette("Brand colours #0A7E8C then #f25c05").named)
    end)

    it("reads a mood as a palette, after the colours named", function()
      local p = image.palette("Warm palette, calm pacing")
      assert.equal("#e8762b", p.band)
      assert.same({ "#1f8a8a", "#6e5c4f", "#2f6fc1", "#e8762b", "#1f8a8a", "#f0a020" },
        image.palette("teal accents, cool tones, warm highlights, #6e5c4f").named)
    end)

    it("makes a dark card for dark mode, with light text", function()
      local p = image.palette("Dark mode UI, neon pink accents")
      assert.is_true(p.dark)
      local r, g, b = p.background:match("^#(%x%x)(%x%x)(%x%x)$")
      assert.is_true(tonumber(r, 16) < 0x40 and tonumber(g, 16) < 0x40 and tonumber(b, 16) < 0x40, p.background)
      assert.equal("#f3f3f1", p.text)
    end)

    it("keeps navy on paper when the style names no colour", function()
      local p = image.palette(nil)
      assert.equal("#2b4c7e", p.band)
      assert.is_false(p.dark)
    end)

    it("keeps every text legible against its background, whatever the style", function()
      local function contrast(a, b)
        local function lum(hex)
          local t = {}
          for i = 1, 3 do
            local v = tonumber(hex:sub(2 * i, 2 * i + 1), 16) / 255
            t[i] = v <= 0.03928 and v / 12.92 or ((v + 0.055) / 1.055) ^ 2.4
          end
          return 0.2126 * t[1] + 0.7152 * t[2] + 0.0722 * t[3]
        end
        local x, y = lum(a), lum(b)
        if x < y then x, y = y, x end
        return (x + 0.05) / (y + 0.05)
      end
      for _, style in ipairs { "yellow and white", "pastel, cream background", "black background, navy text",
                               "neon", "#ffff00", "lime green", "dark mode", "", "sky blue and sand" } do
        local p = image.palette(style)
        assert.is_true(contrast(p.text, p.background) >= 7, style)
        assert.is_true(contrast(p.muted, p.background) >= 4.5, style)
        assert.is_true(contrast(p.label, p.background) >= 3.5, style)
        assert.is_true(contrast(p.band_text, p.band) >= 3, style)
      end
    end)
  end)

  describe("drawing", function()
    it("renders emoji in colour", function()
      local fire = { scene_number = 1, title = "Hot 🔥🔥🔥", duration = 6, layout = "- Mood: 🔥 and ☀️" }
      local plain = { scene_number = 1, title = "Hot", duration = 6, layout = "- Mood: heat and sun" }
      assert(image.draw_card(fire, dir .. "/fire.png", 1080, 1920))
      assert(image.draw_card(plain, dir .. "/plain.png", 1080, 1920))
      assert.is_true(warm_share(dir .. "/fire.png", "1080x400+0+124") > 0.002)
      assert.equal(0, warm_share(dir .. "/plain.png", "1080x400+0+124"))
    end)

    it("fills the frame with a scene's text, and never runs past the margin", function()
      for _, case in ipairs { { 1080, 1920 }, { 1920, 1080 }, { 1080, 1080 } } do
        local path = dir .. "/card.png"
        local w, h = case[1], case[2]
        assert(image.draw_card(document.scenes[1], path, w, h, document.style))
        assert.same(case, { util.png_size(path) })
        local base = math.min(w, h)
        local bottom = content_bottom(path, math.floor(base * 0.115))
        assert.is_true(bottom <= h - math.floor(base * 0.065) + 1, w .. "x" .. h .. ": " .. bottom)
        assert.is_true(bottom >= h * 0.8, w .. "x" .. h .. " ends at " .. bottom)
      end
    end)

    it("keeps its text out of the edges the film's pan or zoom hides", function()
      -- The outer 7% of each side holds no text: one colour at the top (the
      -- band) and at the bottom (the paper), the band's and the paper's at the sides.
      local function colours(path, geometry)
        local p = assert(io.popen(("convert %s -crop %s +repage -format %%k info:")
          :format(util.quote(path), geometry)))
        local n = tonumber(p:read("a"))
        p:close()
        return n
      end
      for _, case in ipairs { { 1080, 1920, 0 }, { 1920, 1080, 1 }, { 1080, 1080, 0 } } do
        local w, h = case[1], case[2]
        local path = dir .. "/safe.png"
        assert(image.draw_card(document.scenes[case[3] + 1], path, w, h, document.style))
        local sx, sy = math.ceil(w * image.SAFE), math.ceil(h * image.SAFE)
        local at = w .. "x" .. h
        assert.equal(1, colours(path, ("%dx%d+0+0"):format(w, sy)), at .. ": top")
        assert.equal(1, colours(path, ("%dx%d+0+%d"):format(w, sy, h - sy)), at .. ": bottom")
        assert.equal(2, colours(path, ("%dx%d+0+0"):format(sx, h)), at .. ": left")
        assert.equal(2, colours(path, ("%dx%d+%d+0"):format(sx, h, w - sx)), at .. ": right")
      end
    end)

    it("draws the same card as the same bytes", function()
      assert(image.draw_card(document.scenes[2], dir .. "/a.png", 540, 960, document.style))
      require("explainer_core").sleep(1.1)   -- a time stamp would differ now
      assert(image.draw_card(document.scenes[2], dir .. "/b.png", 540, 960, document.style))
      assert.equal(util.read(dir .. "/a.png"), util.read(dir .. "/b.png"))
    end)

    it("draws text that looks like Pango markup or ImageMagick escapes as itself", function()
      local odd = { scene_number = 2, title = "<b>bold</b> & <span foo='x'> 100% \\n %w", duration = 6,
                    layout = "- <i>Text</i>: a & b < c > d\n- @/etc/passwd", initial_prompt = "@/etc/hostname &amp; %[w]",
                    iterations = { "</span>" } }
      assert(image.draw_card(odd, dir .. "/odd.png", 1080, 1080))
      assert.truthy(util.png_size(dir .. "/odd.png"))
    end)

    it("draws text that is not UTF-8", function()
      assert(image.draw_card({ scene_number = 3, title = "caf\233 \255", duration = 6,
                               initial_prompt = "\192\193 bad bytes" }, dir .. "/latin1.png", 1080, 1080))
      assert.truthy(util.png_size(dir .. "/latin1.png"))
    end)
  end)

  describe("key", function()
    local function id(scene, style)
      return image.key(scene, { backend = "local", card = "storyboard",
                                document = { format = "9:16", style = style } }).id
    end
    local function copy(t, changes)
      local c = {}
      for k, v in pairs(t) do c[k] = v end
      for k, v in pairs(changes) do c[k] = v end
      return c
    end

    it("is a card/3 key", function()
      assert.equal("card/3", image.key(document.scenes[1], { backend = "local", card = "storyboard" }).recipe)
    end)

    it("changes with everything the card shows", function()
      local s = document.scenes[1]
      local base = id(s, "navy")
      assert.not_equal(base, id(s, "teal"))
      assert.not_equal(base, id(copy(s, { layout = s.layout .. "\n- Extra: one more" }), "navy"))
      assert.not_equal(base, id(copy(s, { iterations = { "Make all labels the same size." } }), "navy"))
      assert.not_equal(base, id(copy(s, { title = "The Loop!" }), "navy"))
      local two = document.scenes[2]
      assert.not_equal(id(two), id(copy(two, { final_prompt = "The lighthouse at noon." })))
    end)

    it("stays when what changed is not on the card", function()
      local s = document.scenes[1]
      assert.equal(id(s, "navy"), id(copy(s, { animation_prompt = "Something else." }), "navy"))
      assert.equal(id(s, "navy"), id(copy(s, { narration = "Other words." }), "navy"))
      assert.equal(id(s, "navy"), id(s, "navy, calm pacing"))
    end)
  end)
end)
