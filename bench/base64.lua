-- bench/base64.lua FILE [decoder] -- decode a base64 file (an OpenAI b64_json
-- image) with the recipes' decoder, as the image recipe does; `lua` uses the
-- pure-Lua decoder of before, for comparison. Prints the CPU seconds spent.
local path, which = arg[1], arg[2]
local f = assert(io.open(path, "rb"))
local text = f:read("a")
f:close()
local decode
if which == "lua" then
  -- The decoder of recipes/base64.lua before it moved to C, as it was.
  local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  local VALUE = {}
  for i = 1, #ALPHABET do VALUE[ALPHABET:byte(i)] = i - 1 end
  VALUE[("-"):byte()] = 62
  VALUE[("_"):byte()] = 63
  decode = function(s)
    s = s:gsub("%s", ""):gsub("=+$", "")
    if #s % 4 == 1 then return nil end
    local out, n = {}, 0
    for i = 1, #s, 4 do
      local a, b, c, d = s:byte(i, i + 3)
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
else
  decode = require("explainer.recipes.base64").decode
end
local t = os.clock()
local bytes = assert(decode(text))
io.write(string.format("%.4f %d\n", os.clock() - t, #bytes))
