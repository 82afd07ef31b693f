-- explainer.recipes.frame: a scene's frame drawn from its Layout Design, read back as a
-- viewer would, with OCR (tesseract): the on-screen words where the layout says, and no
-- production notes anywhere.
local explainer = require "explainer"
local frame = require "explainer.recipes.frame"
local image = require "explainer.recipes.image"
local layout = require "explainer.recipes.layout"
local util = require "mock.util"

local W, H = 540, 960

local function command(argv)
  local r = assert(explainer.exec(argv, { timeout = 60 }))
  assert(r.ok, table.concat(argv, " ") .. ": " .. r.stderr)
  return r.stdout
end

-- The words tesseract reads in a PNG: {text=, x=, y=, w=, h=} (its TSV's word rows), from
-- the whole image and from three overlapping bands of it (tesseract's page analysis can
-- miss a block of large text in a whole frame), their boxes in the image's pixels.
local function tesseract(path, bands)
  local words = {}
  local w = util.png_size(path)
  for i, band in ipairs(bands) do
    local part = path .. ".band.png"
    local top = math.floor(band[1])
    command { "convert", path, "-crop", ("%dx%d+0+%d"):format(w, math.floor(band[2]), top), "+repage", part }
    for line in command({ "tesseract", part, "-", "--psm", "11", "tsv" }):gmatch("[^\n]+") do
      local f = {}
      for field in (line .. "\t"):gmatch("([^\t]*)\t") do f[#f + 1] = field end
      if f[1] == "5" and f[12] and f[12]:find("%w") then
        words[#words + 1] = { text = f[12], x = tonumber(f[7]), y = top + tonumber(f[8]), w = tonumber(f[9]),
                              h = tonumber(f[10]), band = i }
      end
    end
    os.remove(part)
  end
  return words
end

-- The word read that matches (letters only, any case), or nil.
local function find(words, wanted)
  local key = wanted:lower():gsub("%W", "")
  for _, w in ipairs(words) do
    if w.text:lower():gsub("%W", "") == key then return w end
  end
end

-- What OCR reads in a PNG: the whole image; when that misses a word of `expected`, the
-- three bands as well.
local function ocr(path, expected)
  local _, h = util.png_size(path)
  local words = tesseract(path, { { 0, h } })
  for _, wanted in ipairs(expected or {}) do
    if not find(words, wanted) then
      for _, w in ipairs(tesseract(path, { { 0, h * 0.45 }, { h * 0.3, h * 0.45 }, { h * 0.55, h * 0.45 } })) do
        words[#words + 1] = w
      end
      break
    end
  end
  return words
end

local function centre(w) return w.x + w.w / 2, w.y + w.h / 2 end

describe("the frame", function()
  local dir
  before_each(function() dir = util.tmpdir() end)
  after_each(function() util.rmtree(dir) end)

  it("sets each on-screen text where its layout says, as OCR reads it", function()
    local scene = { scene_number = 1, title = "Places", narration = "Morning comes before the evening.",
      layout = table.concat({
      "- Background: Soft teal gradient",
      '- Text: "Morning" - top-left corner, bold',
      '- Text: "Evening" - bottom-right corner, bold',
      "- Visual Elements:", "  - A spiky coral virus in the center",
    }, "\n") }
    local path = dir .. "/f.png"
    assert(frame.draw(scene, path, W, H, { style = "flat, navy" }))
    assert.same({ W, H }, { util.png_size(path) })
    local words = ocr(path, { "Morning", "Evening" })
    local morning, evening = find(words, "Morning"), find(words, "Evening")
    assert.truthy(morning, "Morning not read")
    assert.truthy(evening, "Evening not read")
    local mx, my = centre(morning)
    assert.is_true(mx < W / 2 and my < H / 3, ("Morning at %.0f,%.0f"):format(mx, my))
    local ex, ey = centre(evening)
    assert.is_true(ex > W / 2 and ey > H / 2, ("Evening at %.0f,%.0f"):format(ex, ey))
    -- never in the band burned-in captions use, nor in the edges the film's motion hides
    assert.is_true(evening.y + evening.h <= H - frame.reserve(W, H), "Evening in the caption band")
    assert.is_true(morning.x >= W * 0.07 and morning.y >= H * 0.07)
  end)

  it("centres a scene without a layout on its title, and shows no production notes", function()
    local scene = { scene_number = 2, title = "Quiet Harbour", no_narration = true,
      initial_prompt = "Initial: a harbour at dawn with boats", iterations = { "Iteration one: more fog" },
      animation_prompt = "Boats drift." }
    local path = dir .. "/t.png"
    assert(frame.draw(scene, path, W, H, { style = "Dark mode, neon" }))
    local words = ocr(path, { "Quiet" })
    local quiet = assert(find(words, "Quiet"), "title not read")
    local _, y = centre(quiet)
    assert.is_true(y > H / 4 and y < H * 3 / 4, "title at " .. y)
    for _, notes in ipairs { "dawn", "Iteration", "fog", "Initial", "PROMPT", "NARRATION", "Boats", "SCENE" } do
      assert.is_nil(find(words, notes), notes .. " is on screen")
    end
  end)

  it("keeps the layout's bullets, prompts and iterations off the frame, but labels each visual element", function()
    local scene = { scene_number = 3, title = "Loop", layout = table.concat({
      "- Background: Clean white with a faint blueprint grid",
      '- Text: "Closed loop" - top third, left-aligned, bold',
      "- Visual Elements:", "  - Compressor box, right side",
      "- Aesthetic: Schematic, orderly",
      "- Layout Pattern: Top-Heavy Asymmetric",
    }, "\n"), initial_prompt = "Flat vector schematic of refrigerant", iterations = { "Thin the gridlines" } }
    local path = dir .. "/l.png"
    assert(frame.draw(scene, path, W, H))
    local words = ocr(path, { "Closed", "Compressor" })
    assert.truthy(find(words, "Closed") and find(words, "loop"))
    assert.truthy(find(words, "Compressor"), "the placeholder's label")
    for _, notes in ipairs { "Background", "Aesthetic", "Schematic", "Pattern", "Asymmetric", "vector", "gridlines" } do
      assert.is_nil(find(words, notes), notes .. " is on screen")
    end
  end)

  it("composites crisp text over a supplied image that fills the frame", function()
    local picture = dir .. "/photo.png"
    command { "convert", "-size", "300x500", "-seed", "7", "plasma:tan-steelblue", picture }
    local scene = { scene_number = 4, title = "Sky", narration = "Hello there.",
                    layout = '- Text: "Hello there" - top third, centered, bold' }
    local path = dir .. "/c.png"
    assert(frame.draw(scene, path, W, H, { image_path = picture }))
    local words = ocr(path, { "Hello" })
    local hello = assert(find(words, "Hello"), "text not read over the image")
    local _, y = centre(hello)
    assert.is_true(y < H / 2.5, "Hello at " .. y)
    -- away from the text, the frame is the image, scaled to cover the frame; where it is, it is not
    local scaled = dir .. "/scaled.png"
    command { "convert", picture, "-resize", W .. "x" .. H .. "^", "-gravity", "center", "-extent", W .. "x" .. H,
              scaled }
    local function differ(geometry)
      return tonumber(command { "convert", scaled, path, "-compose", "difference", "-composite", "-crop", geometry,
                                "+repage", "-format", "%[fx:mean]", "info:" })
    end
    assert.is_true(differ(("%dx%d+0+%d"):format(W, H // 5, H - H // 5)) < 0.01)  -- 16 bits to 8
    local d = differ(("%dx%d+%d+%d"):format(hello.w, hello.h, hello.x, hello.y))
    assert.is_true(d > 0.05, ("%s at %d,%d %dx%d differs by %g"):format(hello.text, hello.x, hello.y, hello.w,
      hello.h, d))
  end)

  -- The rows of a PNG with any ink (alpha) in them, as runs {first, last}.
  local function ink_rows(path)
    local _, h = util.png_size(path)
    local out = command { "convert", path, "-alpha", "extract", "-scale", "1x" .. h .. "!", "-depth", "8", "txt:" }
    local rows = {}
    for y, v in out:gmatch("\n0,(%d+): %((%d+)") do rows[tonumber(y)] = tonumber(v) > 0 end
    local runs = {}
    for y = 0, h - 1 do
      if rows[y] and not rows[y - 1] then runs[#runs + 1] = { y, y } end
      if rows[y] then runs[#runs][2] = y end
    end
    return runs
  end

  it("sets a subtitle clear of a two-line headline, by a share of the headline's size", function()
    local scene = { scene_number = 11, title = "t", narration = "Ask about a survey.", layout = table.concat({
      '- Text: "Heat pumps: moving heat, not making it" - Large, left-aligned, top third (safe zone), bold',
      '- Subtitle: "Ask an installer about a heat pump survey" - Left-aligned below the title',
    }, "\n") }
    local path = dir .. "/gap.png"
    assert(frame.draw_text(frame.design(scene, W, H).text, path))
    -- the headline's lines (tall), then the subtitle's (shorter): the space before the
    -- subtitle is well over the space between the headline's own lines
    local runs = ink_rows(path)
    local tall = runs[1][2] - runs[1][1]
    local first_sub
    for i, r in ipairs(runs) do
      if not first_sub and r[2] - r[1] < tall * 0.7 then first_sub = i end
    end
    assert.truthy(first_sub and first_sub >= 3, "a headline on two lines or more, then the subtitle")
    local headline_gap = 0
    for i = 2, first_sub - 1 do headline_gap = math.max(headline_gap, runs[i][1] - runs[i - 1][2] - 1) end
    local gap = runs[first_sub][1] - runs[first_sub - 1][2] - 1
    assert.is_true(gap >= 1.5 * headline_gap, ("%d px before the subtitle, %d between the headline's lines")
      :format(gap, headline_gap))
  end)

  it("fits a long text into its box, and the same design is the same bytes", function()
    local scene = { scene_number = 5, title = "t",
      layout = '- Text: "A rather long on-screen sentence that has to wrap over several lines" - top-left corner' }
    local d = frame.design(scene, W, H)
    local box = d.text.groups[1].box
    local a, b = dir .. "/a.png", dir .. "/b.png"
    assert(frame.draw_text(d.text, a))
    local x, y, w, h = command({ "convert", a, "-trim", "-format", "%X %Y %w %h", "info:" })
      :match("%+?(%d+) %+?(%d+) (%d+) (%d+)")
    x, y, w, h = tonumber(x), tonumber(y), tonumber(w), tonumber(h)
    assert.is_true(x >= box.x and y >= box.y and x + w <= box.x + box.w and y + h <= box.y + box.h,
      ("ink %d,%d %dx%d outside the box %d,%d %dx%d"):format(x, y, w, h, box.x, box.y, box.w, box.h))
    assert(frame.draw_text(d.text, b))
    assert.equal(util.read(a), util.read(b))
  end)

  it("shrinks a word wider than its box until all of it is in the box, none of it cut", function()
    local FW, FH = 1080, 1920
    for i, how in ipairs { "top third", "center, huge", "top-right corner" } do
      local scene = { scene_number = 12, title = "t", narration = "A long word.",
                      layout = '- Text: "Supercalifragilisticexpialidocious" - ' .. how }
      local d = frame.design(scene, FW, FH)
      local box = d.text.groups[1].box
      local path, flat = ("%s/w%d.png"):format(dir, i), ("%s/w%d.flat.png"):format(dir, i)
      assert(frame.draw_text(d.text, path))
      local x, y, w, h = command({ "convert", path, "-trim", "-format", "%X %Y %w %h", "info:" })
        :match("%+?(%d+) %+?(%d+) (%d+) (%d+)")
      x, y, w, h = tonumber(x), tonumber(y), tonumber(w), tonumber(h)
      assert.is_true(x >= box.x and y >= box.y and x + w <= box.x + box.w and y + h <= box.y + box.h,
        ("%s: ink %d,%d %dx%d outside the box %d,%d %dx%d"):format(how, x, y, w, h, box.x, box.y, box.w, box.h))
      assert.is_true(x >= FW * layout.SAFE and x + w <= FW * (1 - layout.SAFE), how .. ": ink in the margin")
      -- every letter is there: a word whose first letter Pango cut reads "upercali..."
      command { "convert", path, "-background", "white", "-flatten", flat }
      local read = {}
      for _, word in ipairs(tesseract(flat, { { 0, FH } })) do read[#read + 1] = word.text end
      assert.equal("Supercalifragilisticexpialidocious", table.concat(read):gsub("%W", ""), how)
    end
  end)

  it("shows every scene of the bundled example with its text where its layout says, and no notes", function()
    local doc = assert(explainer.parse(util.root() .. "/examples/sample.txt"))
    -- Words of the script's production notes that none of its on-screen texts holds.
    local notes = { "Initial", "Iteration", "PROMPT", "NARRATION", "Aesthetic", "Layout", "Pattern", "Background",
                    "vector", "Animate", "typos" }
    for _, scene in ipairs(doc.scenes) do
      local sub = ("%s/scene_%02d"):format(dir, scene.scene_number)
      assert(os.execute("mkdir -p " .. util.quote(sub)))
      local path = assert(image.generate(scene, sub, { document = doc, frame_size = W .. "x" .. H }))
      local text = layout.for_scene(scene).texts[1]
      -- its longest word, read where its position says
      local longest = ""
      for w in text.text:gmatch("[%a']+") do if #w > #longest then longest = w end end
      local words = ocr(path, { longest })
      local w = find(words, longest)
      assert.truthy(w, ("scene %d: '%s' not read"):format(scene.scene_number, longest))
      local x, y = centre(w)
      local p = text.position
      local where = ("scene %d: '%s' at %.0f,%.0f (%s %s)"):format(scene.scene_number, longest, x, y,
        tostring(p.v), tostring(p.h))
      if p.v == "top" or p.v == "top third" then assert.is_true(y < H * 0.4, where) end
      if p.h == "left" then assert.is_true(x < W * 0.6, where) end
      if p.h == "right" then assert.is_true(x > W * 0.4, where) end
      assert.is_true(w.y + w.h <= H - frame.reserve(W, H), where .. ": in the caption band")
      for _, note in ipairs(notes) do
        assert.is_nil(find(words, note), ("scene %d: '%s' is on screen"):format(scene.scene_number, note))
      end
    end
  end)
end)
