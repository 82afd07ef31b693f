-- explainer.recipes.base64: base64 decoded in C (src/base64.c).
local base64 = require "explainer.recipes.base64"
local core = require "explainer_core"

-- A reference encoder, to check decoding against.
local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function encode(bytes)
  local out = {}
  for i = 1, #bytes, 3 do
    local a, b, c = bytes:byte(i, i + 2)
    local v = a << 16 | (b or 0) << 8 | (c or 0)
    local s = {}
    for k = 1, 4 do s[k] = ALPHABET:sub((v >> (24 - 6 * k) & 63) + 1, (v >> (24 - 6 * k) & 63) + 1) end
    if not b then s[3], s[4] = "=", "=" elseif not c then s[4] = "=" end
    out[#out + 1] = table.concat(s)
  end
  return table.concat(out)
end

describe("recipes.base64", function()
  it("decodes what was encoded, for every length and byte", function()
    math.randomseed(7)
    for n = 0, 300 do
      local t = {}
      for i = 1, n do t[i] = string.char(math.random(0, 255)) end
      local bytes = table.concat(t)
      assert.equal(bytes, base64.decode(encode(bytes)), "length " .. n)
      assert.equal(bytes, base64.decode((encode(bytes):gsub("=", ""))), "unpadded, length " .. n)
    end
  end)

  it("skips whitespace and newlines anywhere, as MIME line breaks put them", function()
    assert.equal("hello world", base64.decode("aGVs\nbG8g\r\nd29y bGQ=\n"))
    assert.equal("hello world", base64.decode(" a G V s b G 8 g d 2 9 y b G Q = "))
    assert.equal("hi", base64.decode("aGk=\n\n"))
  end)

  it("reads the URL-safe alphabet too", function()
    assert.equal("\251\255\191", base64.decode("-_-_"))
    assert.equal("\251\255\191", base64.decode("+/+/"))
  end)

  it("refuses text that is not base64 with nil and the offset of the problem", function()
    local cases = {
      { "aG!k", "invalid base64: character '!' at offset 2" },
      { "aGk\0", "invalid base64: character 0x00 at offset 3" },
      { "a", "invalid base64: the text ends in the middle of a byte" },
      { "aGk===", "invalid base64: padding '=' at offset 3" },
      { "aGk=aGk=", "invalid base64: data after the padding 'a' at offset 4" },
      { "aG==x", "invalid base64: data after the padding 'x' at offset 4" },
      { "aGVs=", "invalid base64: padding '=' at offset 4" },
      { "=", "invalid base64: padding '=' at offset 0" },
    }
    for _, case in ipairs(cases) do
      local bytes, err = base64.decode(case[1])
      assert.is_nil(bytes, case[1])
      assert.equal(case[2], err)
    end
    local bytes, err = base64.decode(nil)
    assert.is_nil(bytes)
    assert.equal("invalid base64: a string is expected, got nil", err)
  end)

  it("decodes the empty text to no bytes", function()
    assert.equal("", base64.decode(""))
    assert.equal("", base64.decode(" \n"))
  end)

  it("is the core's decoder, so a 3 MiB image costs one C call", function()
    local big = string.rep(encode("\137PNG\0\255"), 512 * 1024)   -- 6 bytes: no padding
    assert.equal(core.base64_decode(big), base64.decode(big))
    assert.equal(3 * 1024 * 1024, #base64.decode(big))
  end)
end)
