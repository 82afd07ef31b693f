-- luacheck (Debian lua-check) configuration: `make lint` runs `luacheck lua scripts tests`.
std = "lua54"
max_line_length = 120

-- busted's globals (describe, it, assert.*, setup, ...) in the specs; their shell
-- command lines run a little longer.
files["tests/"] = { std = "+busted", max_line_length = 140 }

-- The spec keeps all three results of its one run (status, stdout, stderr) side by side.
files["tests/recipes_video_spec.lua"].ignore = { "231/out" }
