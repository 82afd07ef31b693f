--- Base64 decoding (RFC 4648), for image APIs that answer in `b64_json`.
-- @module explainer.recipes.base64

local M = {}

local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local VALUE = {}
for i = 1, #ALPHABET do VALUE[ALPHABET:byte(i)] = i - 1 end
VALUE[("-"):byte()] = 62   -- the URL-safe alphabet too
VALUE[("_"):byte()] = 63

--- Decode base64 text (whitespace ignored, padding optional).
-- @tparam string text
-- @treturn string|nil the bytes, or nil when the text is not base64
function M.decode(text)
  if type(text) ~= "string" then return nil end
  text = text:gsub("%s", ""):gsub("=+$", "")
  if #text % 4 == 1 then return nil end
  local out, n = {}, 0
  for i = 1, #text, 4 do
    local a, b, c, d = text:byte(i, i + 3)
    local va, vb = VALUE[a], VALUE[b]
    local vc, vd = c and VALUE[c] or 0, d and VALUE[d] or 0
    if not va or not vb or (c and not VALUE[c]) or (d and not VALUE[d]) then return nil end
    local v = va << 18 | vb << 12 | vc << 6 | vd
    n = n + 1
    if d then
      out[n] = string.char(v >> 16 & 255, v >> 8 & 255, v & 255)
    elseif c then
      out[n] = string.char(v >> 16 & 255, v >> 8 & 255)
    else
      out[n] = string.char(v >> 16 & 255)
    end
  end
  return table.concat(out)
end

return M
