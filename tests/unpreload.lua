-- A busted helper for `make test-asan` (tests/run passes it): lua5.4 needed the
-- sanitizer runtime in LD_PRELOAD to load the instrumented module; the programs
-- the specs start do not (tests/c/unpreload.c says why). A child lua5.4 that
-- loads the module gets it back from EXPLAINER_TEST_PRELOAD (helpers.lua_env).
local so = os.getenv("EXPLAINER_TEST_UNPRELOAD")
if so and so ~= "" then
  local unsetenv = assert(package.loadlib(so, "luaopen_unpreload"))()
  assert(unsetenv("LD_PRELOAD"))
end
