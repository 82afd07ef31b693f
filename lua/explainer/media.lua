--- What kind of media a file or an answer holds, from its first bytes.
-- @module explainer.media

local M = {}

local SIGNATURES = {
  { "png", function(b) return b:sub(1, 8) == "\137PNG\r\n\26\n" end },
  { "jpeg", function(b) return b:sub(1, 3) == "\255\216\255" end },
  { "webp", function(b) return b:sub(1, 4) == "RIFF" and b:sub(9, 12) == "WEBP" end },
  { "wav", function(b) return b:sub(1, 4) == "RIFF" and b:sub(9, 12) == "WAVE" end },
  { "mp3", function(b)
      if b:sub(1, 3) == "ID3" then return true end
      local x, y = b:byte(1, 2)
      return x == 0xFF and y ~= nil and y & 0xE0 == 0xE0
    end },
  { "mp4", function(b) return b:sub(5, 8) == "ftyp" end },
}

--- The kind of media these bytes start with.
-- @tparam string bytes (the first 16 are enough)
-- @treturn string|nil "png", "jpeg", "webp", "wav", "mp3", "mp4", or nil
function M.kind_of(bytes)
  if type(bytes) ~= "string" then return nil end
  for _, sig in ipairs(SIGNATURES) do
    if sig[2](bytes) then return sig[1] end
  end
  return nil
end

--- The kind a file name's extension promises ("x.mp3" -> "mp3"), or nil.
function M.kind_of_name(path)
  local ext = tostring(path):match("%.(%w+)$")
  ext = ext and ext:lower()
  if ext == "jpg" then return "jpeg" end
  if ext == "m4a" or ext == "mov" then return "mp4" end
  return ext
end

--- Check that a file is a non-empty file of the expected kind.
-- @tparam string path
-- @tparam[opt] string kind "png", "mp3", ... (default: from the extension;
--   a kind this module does not know is checked for size only)
-- @treturn true|nil
-- @treturn string|nil "PATH: empty", "PATH: not an mp3 file (starts with ...)"
function M.check_file(path, kind)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local head = f:read(16) or ""
  f:close()
  if head == "" then return nil, path .. ": empty" end
  kind = kind or M.kind_of_name(path)
  local known = false
  for _, sig in ipairs(SIGNATURES) do known = known or sig[1] == kind end
  if not known or M.kind_of(head) == kind then return true end
  local shown = head:gsub("[^%g ]", "."):sub(1, 12)
  return nil, ("%s: not a %s file (starts with %q)"):format(path, kind, shown)
end

return M
