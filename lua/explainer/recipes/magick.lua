--- ImageMagick with its pango: coder, as the card and the frame use it:
-- text as Pango markup, sizes in pixels, and `convert` run safely.
--
-- The coder wraps text at the width asked for when it runs at 90 dpi, where a
-- pixel is 0.8 point: `M.PT` Pango units make a pixel.
-- @module explainer.recipes.magick

local common = require "explainer.recipes.common"

local M = {}

--- Pango units (1024ths of a point) in a pixel at 90 dpi.
M.PT = 0.8 * 1024

--- Text as Pango markup that ImageMagick passes on unchanged: markup's
-- special characters as numeric references (ImageMagick decodes named ones).
-- @tparam string s
-- @treturn string
function M.markup(s)
  return (tostring(s):gsub("[&<>\"']", function(c) return "&#" .. c:byte() .. ";" end))
end

--- Markup as an argument of `pango:`: ImageMagick's own escapes ("\" and
-- "%"; a leading "@" means "read this file").
-- @tparam string s
-- @treturn string
function M.text(s)
  s = s:gsub("\\", "\\\\"):gsub("%%", "%%%%")
  if s:sub(1, 1) == "@" then s = "\\" .. s end
  return s
end

--- A `<span>` of markup in a family, a size in pixels, a colour, and a weight.
-- @tparam string text markup already escaped
-- @tparam string family font families, comma-separated (Pango falls back along them)
-- @tparam number size pixels
-- @tparam string colour
-- @tparam[opt] string weight
-- @tparam[opt] string extra more attributes (` letter_spacing="…"`)
function M.span(text, family, size, colour, weight, extra)
  return string.format("<span font_family=\"%s\" size=\"%d\" foreground=\"%s\"%s%s>%s</span>", family,
    math.floor(size * M.PT + 0.5), colour, weight and (" weight=\"" .. weight .. "\"") or "", extra or "", text)
end

--- Text trimmed, its runs of blanks made one, shortened at a word to at most
-- `max_chars` characters (with " …"); bytes that are not UTF-8 become "?".
-- @tparam string s
-- @tparam number max_chars
-- @treturn string
function M.shorten(s, max_chars)
  s = tostring(s or ""):gsub("^%s+", ""):gsub("%s+$", ""):gsub("[ \t]+", " ")
  if utf8.len(s) and utf8.len(s) > max_chars then
    s = s:sub(1, utf8.offset(s, max_chars + 1) - 1):gsub("%s+%S*$", "") .. " …"
  elseif not utf8.len(s) then
    s = s:gsub("[\128-\255]", "?")   -- not UTF-8: Pango would refuse it
    if #s > max_chars then s = s:sub(1, max_chars) .. " …" end
  end
  return s
end

--- Append values to a list.
function M.push(argv, ...)
  for _, a in ipairs { ... } do argv[#argv + 1] = a end
end

--- The message for an image ImageMagick could not draw: an ImageMagick
-- without its pango: coder is named, with what to install.
function M.error(err)
  err = tostring(err)
  if err:find("no decode delegate for this image format `PANGO'", 1, true)
    or err:find("NoDecodeDelegateForThisImageFormat `PANGO'", 1, true) then
    return "drawing text needs ImageMagick's pango: coder (Debian: libmagickcore-6.q16-6-extra, " ..
      "and fonts-noto-color-emoji for emoji; run make deps)"
  end
  return err
end

--- Run `convert` with these arguments.
-- ImageMagick unloads its pango coder at exit while a thread Pango started
-- may still run in libpangoft2: now and then convert dies of SIGABRT after
-- its work is done. Preloaded, the library is never unmapped (0 aborts in
-- 400 runs against 7 without).
-- @tparam table args
-- @treturn table|nil the result of `common.run`
-- @treturn string|nil message
function M.convert(args)
  local argv = { "env", "LD_PRELOAD=libpangoft2-1.0.so.0", "convert" }
  for _, a in ipairs(args) do argv[#argv + 1] = tostring(a) end
  local r, err = common.run(argv, { timeout = 120 })
  if not r then return nil, M.error((tostring(err):gsub("^env ", "convert "))) end
  return r
end

--- The arguments that end a command writing a PNG: 8 bits, zlib's fastest
-- level (half the time of the default, a tenth more bytes), no time stamps
-- (the same image is the same bytes). Always RGBA (`PNG32:`): ImageMagick
-- writes it in half the time of RGB (`PNG24:` looks the whole image over
-- first); an opaque image's alpha costs a few hundred bytes.
-- @tparam string path
function M.png_out(path)
  return "-depth", "8", "-define", "png:compression-level=1", "-define", "png:exclude-chunks=date,time",
    "PNG32:" .. path
end

return M
