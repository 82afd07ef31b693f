-- explainer.exec: running a program with an argument vector, never a shell.
local explainer = require "explainer"
local exec = explainer.exec

describe("explainer.exec", function()
  it("passes each argument verbatim, with no shell to expand it", function()
    local args = { "$(touch /tmp/explainer-pwned)", "`id`", "a; b", "'single'", "\"double\"", "* ?", "" }
    local argv = { "printf", "[%s]" }
    for _, a in ipairs(args) do argv[#argv + 1] = a end
    local r = assert(exec(argv))
    assert.is_true(r.ok)
    assert.equal("[$(touch /tmp/explainer-pwned)][`id`][a; b]['single'][\"double\"][* ?][]", r.stdout)
    assert.is_nil(io.open("/tmp/explainer-pwned"))
  end)

  it("feeds stdin and captures stdout, stderr and the exit status apart", function()
    local r = assert(exec({ "sh", "-c", "cat; echo oops >&2; exit 3" }, { stdin = "hello\0world" }))
    assert.equal("hello\0world", r.stdout)
    assert.equal("oops\n", r.stderr)
    assert.equal(3, r.status)
    assert.is_false(r.ok)
    assert.is_false(r.timed_out)
  end)

  it("moves megabytes through stdin and stdout without blocking", function()
    local big = string.rep("0123456789abcdef", 256 * 1024)   -- 4 MiB
    local r = assert(exec({ "cat" }, { stdin = big, timeout = 30 }))
    assert.is_true(r.stdout == big)
  end)

  it("survives a program that stops reading its stdin", function()
    local r = assert(exec({ "head", "-c", "5" }, { stdin = string.rep("x", 1024 * 1024) }))
    assert.equal("xxxxx", r.stdout)
    assert.equal(0, r.status)
  end)

  it("gives a child /dev/null as stdin when there is no stdin data", function()
    local r = assert(exec({ "cat" }, { timeout = 5 }))
    assert.equal("", r.stdout)
    assert.is_false(r.timed_out)
  end)

  it("reports a missing program as nil and a message that says what to do", function()
    local r, err = exec({ "explainer-no-such-tool", "x" })
    assert.is_nil(r)
    assert.equal("explainer-no-such-tool not found; run make deps", err)
  end)

  it("kills the whole process group at the timeout", function()
    local r = assert(exec({ "sh", "-c", "sleep 30 & echo $!; wait" }, { timeout = 0.3 }))
    assert.is_true(r.timed_out)
    assert.is_false(r.ok)
    assert.is_true(r.seconds < 5)
    local grandchild = assert(tonumber(r.stdout:match("%d+")))
    local gone = false
    for _ = 1, 100 do   -- the orphan is killed, then reaped by init
      local p = io.open("/proc/" .. grandchild .. "/stat")
      local stat = p and p:read("a")
      if p then p:close() end
      if not stat or stat:match("^%d+ %b() (%a)") == "Z" then gone = true break end
      explainer.core.sleep(0.02)
    end
    assert.is_true(gone)
  end)

  it("reports the signal that ended a program", function()
    local r = assert(exec({ "sh", "-c", "kill -TERM $$" }))
    assert.equal(15, r.signal)
    assert.is_false(r.ok)
  end)

  it("runs in another folder and with environment changes when asked", function()
    local r = assert(exec({ "sh", "-c", 'pwd; echo "${EXPLAINER_X-unset} ${HOME-unset}"' },
                          { cwd = "/", env = { EXPLAINER_X = "a b $c", HOME = false } }))
    assert.equal("/\na b $c unset\n", r.stdout)
  end)

  it("hands stdout to on_stdout as it comes, while the program still runs", function()
    local core = explainer.core
    local pieces, times = {}, {}
    local r = assert(exec({ "sh", "-c", "echo out_time_us=1; sleep 0.5; echo out_time_us=2" },
                          { on_stdout = function(piece)
                              pieces[#pieces + 1] = piece
                              times[#times + 1] = core.time()
                            end }))
    local ended = core.time()
    assert.equal("out_time_us=1\nout_time_us=2\n", table.concat(pieces))
    assert.equal("out_time_us=1\nout_time_us=2\n", r.stdout, "and keeps it all in the result")
    assert.is_true(ended - times[1] > 0.3, "the first piece came before the program ended")
  end)

  it("raises what on_stdout raised once the program has ended, calling it no more", function()
    local calls = 0
    local ok, err = pcall(exec, { "sh", "-c", "echo a; sleep 0.2; echo b" },
                          { on_stdout = function(piece)
                              calls = calls + 1
                              error("bad piece " .. piece, 0)
                            end })
    assert.is_false(ok)
    assert.equal("bad piece a\n", err)
    assert.equal(1, calls)
    assert.has_error(function() exec({ "echo" }, { on_stdout = "print" }) end,
                     "bad field 'on_stdout' (function expected, got string)")
  end)

  it("says whether a file descriptor is a terminal: not one that is not open, and not a negative one", function()
    -- (a terminal's is: the film's live progress through script(1), film_spec)
    local core = explainer.core
    assert.is_false(core.isatty(1000))
    assert.has_error(function() core.isatty(-1) end)
  end)

  it("raises on arguments that are a programming error", function()
    assert.has_error(function() exec("ls") end)
    assert.has_error(function() exec({}) end)
    assert.has_error(function() exec({ "echo", 3 }) end)
    assert.has_error(function() exec({ "echo", "a\0b" }) end)
    assert.has_error(function() exec({ "echo" }, { timeout = "soon" }) end)
  end)
end)
