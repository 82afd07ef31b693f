-- explainer.make / explainer.fresh and explainer.artifact: outputs that know
-- what made them, kept when fresh, remade when their key changed, never
-- trusted when their key file or cache entry is bad.
local explainer = require "explainer"
local artifact = require "explainer.artifact"
local cache = require "explainer.cache"
local key = require "explainer.key"
local settings = require "explainer.settings"
local log = require "explainer.log"
local h = require "helpers"
local lfs = require "lfs"

-- A PNG's first bytes, `tag`, and its IEND chunk: what the checks read of a
-- PNG (its kind at the start, its end at the end; media_spec has real ones).
local function png(tag)
  return "\137PNG\r\n\26\n" .. string.rep("\0", 40) .. (tag or "") .. "\0\0\0\0IEND\174\66\96\130"
end
local PNG = png()

describe("outputs that know what made them", function()
  local dir, builds, warnings

  local function build(text)
    return function(tmp)
      builds = builds + 1
      local f = assert(io.open(tmp, "wb"))
      f:write(text)
      f:close()
      return true
    end
  end

  before_each(function()
    dir = h.tmpdir()
    builds = 0
    settings.cache_dir = dir .. "/cache"
    settings.cache, settings.force, settings.progress = true, false, "plain"
    -- collect warnings instead of printing them
    warnings = {}
    log.output = { write = function(_, ...) warnings[#warnings + 1] = table.concat { ... } end }
  end)
  after_each(function()
    log.output = io.stderr
    h.rm_rf(dir)
  end)

  it("makes a file once and keeps it while its values are the same", function()
    local path = dir .. "/summary.txt"
    local p, how = explainer.make(path, { text = "hello", model = "m1" }, build("v1"))
    assert.same({ path, "made" }, { p, how })
    assert.is_true(explainer.fresh(path, { text = "hello", model = "m1" }))
    p, how = explainer.make(path, { text = "hello", model = "m1" }, build("v1"))
    assert.same({ path, "fresh" }, { p, how })
    assert.equal(1, builds)
    assert.is_false(explainer.fresh(path, { text = "hello", model = "m2" }))
    local _, how2 = explainer.make(path, { text = "hello", model = "m2" }, build("v2"))
    assert.equal("made", how2)
    assert.equal("v2", h.read(path))
  end)

  it("remakes a file when a file it depends on changes", function()
    local src, out = h.write(dir .. "/input.txt", "one"), dir .. "/out.txt"
    local deps = { files = { src } }
    explainer.make(out, deps, build("from one"))
    assert.is_true(explainer.fresh(out, deps))
    h.write(src, "two")
    assert.is_false(explainer.fresh(out, deps))
    local _, how = explainer.make(out, deps, build("from two"))
    assert.equal("made", how)
  end)

  it("keeps a file made by hand, says so once, and remakes it when forced", function()
    local path = h.write(dir .. "/final.png", png("hand-made"))
    local k = key.of("test/1", { prompt = "a cat" })
    local p, how = artifact.make(path, k, build(png("generated")))
    assert.same({ path, "kept" }, { p, how })
    assert.equal(0, builds)
    assert.matches("was not made by explainer", table.concat(warnings), 1, true)
    -- a file we made and someone edited afterwards is kept too
    settings.force = true
    local _
    _, how = artifact.make(path, k, build(png("generated")))
    assert.equal("made", how)
    settings.force = false
    h.write(path, png("retouched by hand"))
    _, how = artifact.make(path, key.of("test/1", { prompt = "a dog" }), build(png("dog")))
    assert.equal("kept", how)
    assert.equal(png("retouched by hand"), h.read(path))
  end)

  it("keeps a file put there by hand only while it is whole", function()
    local k = key.of("test/1", { prompt = "a cat" })
    -- cut short where its IEND chunk should be (a full disk, a copy stopped)
    local path = h.write(dir .. "/final.png", png("by hand"):sub(1, -13))
    local p, how = artifact.make(path, k, build(png("generated")))
    assert.same({ path, "made" }, { p, how })
    assert.matches("final.png: cut short (a PNG image does not end as one does): made again",
      table.concat(warnings), 1, true)
    assert.equal(png("generated"), h.read(path))
  end)

  it("never trusts an empty or mislabelled file, made by hand or not", function()
    local path = h.write(dir .. "/final.png", "")
    local _, how = artifact.make(path, key.of("t/1", { x = 1 }), build(png("made")))
    assert.equal("made", how)
    local html = h.write(dir .. "/final.png", "<html>not an image</html>")
    _, how = artifact.make(html, key.of("t/1", { x = 2 }), build(PNG))
    assert.equal("made", how)
  end)

  it("refuses what a build made when it is not the kind of file its name says", function()
    local p, err = artifact.make(dir .. "/final.png", key.of("t/1", { x = 2 }),
      build('{"error": "quota"}'))
    assert.is_nil(p)
    assert.matches("not a PNG image", err, 1, true)
    assert.is_nil(lfs.attributes(dir .. "/final.png"))
    assert.is_false(cache.fetch(key.of("t/1", { x = 2 }).id, ".png", dir .. "/x.png"),
      "nothing bad went into the cache")
  end)

  it("does not rewrite a file made again with the same bytes: only its key changes", function()
    local path = dir .. "/summary.txt"
    explainer.make(path, { text = "hello", model = "m1" }, build("same words"))
    local before, old_key = lfs.attributes(path, "modification"), h.read(key.sidecar(path))
    require("explainer_core").sleep(1.1)
    local _, how = explainer.make(path, { text = "hello", model = "m2" }, build("same words"))
    assert.equal("made", how)
    assert.equal(2, builds)
    assert.equal(before, lfs.attributes(path, "modification"), "the file keeps its time stamp")
    assert.are_not.equal(old_key, h.read(key.sidecar(path)), "its key is the new one")
    assert.is_true(explainer.fresh(path, { text = "hello", model = "m2" }))
    for name in lfs.dir(dir) do assert.is_nil(name:match("%.tmp"), name .. " left behind") end
  end)

  it("records what the check learnt of a track in its key file, and reads it back while the bytes are "
     .. "the same", function()
    local tool = require "explainer.tool"
    local path = dir .. "/narration.mp3"
    local k = key.of("test/1", { n = 1 })
    assert(artifact.make(path, k, function(tmp)
      return tool.run { "ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                        "sine=frequency=300:duration=2", "-af", "apad=pad_dur=1", "-f", "mp3", "file:" .. tmp }
    end, { cache = false }))
    assert.matches("\nfacts {", h.read(key.sidecar(path)), 1, true)
    local facts = assert(artifact.facts(path))
    assert.equal("mp3", facts.kind)
    assert.near(3, facts.duration, 0.1)
    -- the tone, then a second of silence to the end
    assert.equal(1, #facts.silences)
    assert.near(2, facts.silences[1][1], 0.1)
    -- other bytes there (a file changed by hand): no facts
    h.write(path, h.read(path) .. "x")
    assert.is_nil(artifact.facts(path))
  end)

  it("ignores a corrupt key file with a warning and makes the file again", function()
    local path = dir .. "/out.txt"
    explainer.make(path, { v = 1 }, build("one"))
    h.write(key.sidecar(path), "explainer-key 1\nid zz\n")
    local _, how = explainer.make(path, { v = 1 }, build("one again"))
    assert.equal("made", how)
    assert.matches("out.txt.key: incomplete key file", table.concat(warnings), 1, true)
    assert.equal("one again", h.read(path))
  end)

  it("remakes a file whose new key was written but which a crash left unrenamed", function()
    local path = dir .. "/out.txt"
    local old = key.of("user", { v = 1 })
    explainer.make(path, { v = 1 }, build("one"))
    -- the new key, naming the old bytes as the ones it replaces, then the crash
    local new = key.of("user", { v = 2 })
    local core = require "explainer_core"
    h.write(key.sidecar(path), key.format(new, string.rep("0", 32), core.hash_file(path)))
    assert.equal("stale", (artifact.standing(path, new)))
    assert.equal("stale", (artifact.standing(path, old)))
    local _, how = explainer.make(path, { v = 2 }, build("two"))
    assert.equal("made", how)
  end)

  it("cleans up temporary files a killed run left behind", function()
    local path = dir .. "/clip.mp4"
    local stale = h.write(dir .. "/.clip.mp4.12345.tmp.mp4", "half")
    local recent = h.write(dir .. "/.clip.mp4.67890.tmp.mp4", "being written")
    lfs.touch(stale, os.time() - 7200, os.time() - 7200)
    explainer.make(path, { v = 1 }, build("whole"))
    assert.is_nil(lfs.attributes(stale), "an old temporary file is removed")
    assert.truthy(lfs.attributes(recent), "one another run may be writing stays")
  end)

  it("cleans what a killed run left in the folders of scenes that are fresh now, once an hour", function()
    local film = h.write(dir .. "/film.txt", h.script(2))
    local wf = h.write(dir .. "/wf.lua", [[return { output_filename = "x.txt",
      process_scene = function(_, d) io.open(d .. "/x.txt", "w"):close() end }]])
    local out = dir .. "/out"
    local _, err, code = h.run { wf, film, "--output-dir", out }
    assert.equal(0, code, err)
    -- a run killed while it made scene 1's clip, and the film, two hours ago
    local function old(path) lfs.touch(h.write(path, "half"), os.time() - 7200, os.time() - 7200) return path end
    os.remove(out .. "/film/.explainer/wf/swept")
    local clip = old(out .. "/film/scene_01/.clip.mp4.12345.tmp.mp4")
    local mix = old(out .. "/film/.film.mp4.777.tmp.mp4.mix.wav")
    local young = h.write(out .. "/film/scene_00/.narration.mp3.4242.tmp.mp3", "being written")
    local mine = h.write(out .. "/film/scene_00/notes.tmp", "not a temporary of ours")
    lfs.touch(mine, os.time() - 7200, os.time() - 7200)
    _, err, code = h.run { wf, film, "--output-dir", out }
    assert.equal(0, code, err)
    assert.matches("Skipped: 2", err, 1, true)
    assert.is_nil(lfs.attributes(clip), "a fresh scene's folder is cleaned")
    assert.is_nil(lfs.attributes(mix), "and the document's")
    assert.truthy(lfs.attributes(young), "what another run may be writing stays")
    assert.truthy(lfs.attributes(mine), "a user's file stays")
    -- within the hour the folders are not read again
    local later = old(out .. "/film/scene_01/.clip.mp4.999.tmp.mp4")
    h.run { wf, film, "--output-dir", out }
    assert.truthy(lfs.attributes(later))
  end)

  describe("the shared cache", function()
    it("gives a second file with the same key the cached bytes, without building", function()
      local k = key.of("t/1", { narration = "same words", voice = "alloy" })
      lfs.mkdir(dir .. "/a")
      artifact.make(dir .. "/a/final.png", k, build(png("first")), {})
      assert.equal(1, builds)
      lfs.mkdir(dir .. "/b")
      local _, how = artifact.make(dir .. "/b/final.png", k, build(png("second")))
      assert.equal("cached", how)
      assert.equal(1, builds)
      assert.equal(png("first"), h.read(dir .. "/b/final.png"))
    end)

    it("drops a bad entry with a warning and makes the file again", function()
      local k = key.of("t/1", { n = 1 })
      lfs.mkdir(dir .. "/a")
      artifact.make(dir .. "/a/final.png", k, build(png("1")))
      -- the entry is damaged (a disk error, a hand edit)
      local entry = ("%s/v1/%s/%s.png"):format(settings.cache_dir, k.id:sub(1, 2), k.id)
      h.write(entry, "garbage")
      lfs.mkdir(dir .. "/b")
      local _, how = artifact.make(dir .. "/b/final.png", k, build(png("2")))
      assert.equal("made", how)
      assert.matches("ignoring a bad cache entry", table.concat(warnings), 1, true)
      assert.equal(png("2"), h.read(entry), "the entry is made good again")
    end)

    it("drops an entry cut short, though its first bytes are right, and makes the file again", function()
      local k = key.of("t/1", { n = 2 })
      lfs.mkdir(dir .. "/a")
      artifact.make(dir .. "/a/final.png", k, build(png("1")))
      local entry = ("%s/v1/%s/%s.png"):format(settings.cache_dir, k.id:sub(1, 2), k.id)
      h.write(entry, png("1"):sub(1, -5))
      lfs.mkdir(dir .. "/b")
      local _, how = artifact.make(dir .. "/b/final.png", k, build(png("2")))
      assert.equal("made", how)
      assert.equal(2, builds)
      assert.matches("ignoring a bad cache entry (entry " .. k.id .. ".png: cut short", table.concat(warnings), 1, true)
      assert.equal(png("2"), h.read(dir .. "/b/final.png"))
      assert.equal(png("2"), h.read(entry), "the entry is made good again")
    end)

    it("goes on without a cache it cannot write, with one warning", function()
      settings.cache_dir = h.write(dir .. "/not-a-folder", "x") .. "/cache"
      for i = 1, 3 do
        local _, how = explainer.make(dir .. "/f" .. i .. ".txt", { i = i }, build("x"), { cache = true })
        assert.equal("made", how)
      end
      local text = table.concat(warnings)
      local _, n = text:gsub("cannot be written", "")
      assert.equal(1, n, text)
    end)

    it("is off with cache = false", function()
      settings.cache = false
      local k = key.of("t/1", { z = 1 })
      lfs.mkdir(dir .. "/a")
      lfs.mkdir(dir .. "/b")
      artifact.make(dir .. "/a/x.txt", k, build("1"))
      artifact.make(dir .. "/b/x.txt", k, build("2"))
      assert.equal(2, builds)
      assert.is_nil(lfs.attributes(dir .. "/cache"))
    end)

    it("reports its size and prunes the least recently used entries first", function()
      local ids = {}
      for i = 1, 4 do
        local k = key.of("t/1", { i = i })
        ids[i] = k.id
        lfs.mkdir(dir .. "/s" .. i)
        artifact.make(dir .. "/s" .. i .. "/x.txt", k, build(string.rep("x", 1000)))
        local entry = ("%s/v1/%s/%s.txt"):format(settings.cache_dir, k.id:sub(1, 2), k.id)
        lfs.touch(entry, os.time() - 1000 + i * 10, os.time() - 1000 + i * 10)
      end
      local st = cache.stats(settings.cache_dir)
      assert.same({ 4, 4000 }, { st.entries, st.bytes })
      local r = cache.prune(settings.cache_dir, 2500)
      assert.same({ 2, 2, 2000 }, { r.removed, r.entries, r.bytes })
      for i = 1, 4 do
        local entry = ("%s/v1/%s/%s.txt"):format(settings.cache_dir, ids[i]:sub(1, 2), ids[i])
        assert.equal(i > 2, lfs.attributes(entry) ~= nil, "entry " .. i)
      end
      assert.equal(2 * 2^30, cache.parse_size("2G"))
      assert.equal(500 * 2^20, cache.parse_size("500M"))
      assert.is_nil(cache.parse_size("lots"))
    end)
  end)
end)

describe("explainer cache (command line)", function()
  it("prints the cache's size and prunes it to a size", function()
    local dir = h.tmpdir()
    local c = dir .. "/c"
    for i = 1, 3 do
      local sub = ("%s/v1/%02x"):format(c, i)
      os.execute("mkdir -p " .. h.shell_quote(sub))
      h.write(("%s/%02x%s.mp3"):format(sub, i, string.rep("0", 30)), string.rep("a", 2048))
    end
    local out, err, code = h.run { "cache", "--cache-dir", c }
    assert.equal(0, code, err)
    assert.matches("3 entries, 6.0 KB", out, 1, true)
    assert.is_nil(out:find("no such folder", 1, true))
    out = h.run { "cache", "--cache-dir", dir .. "/typo" }
    assert.equal(dir .. "/typo (no such folder yet)\n  0 entries, 0 bytes\n", out)
    out, err, code = h.run { "cache", "prune", "--max-size", "3k", "--cache-dir", c }
    assert.equal(0, code, err)
    assert.matches("removed 2 entries", out, 1, true)
    local _, err2, code2 = h.run { "cache", "prune", "--cache-dir", c }
    assert.equal(2, code2)
    assert.matches("--max-size", err2, 1, true)
    h.rm_rf(dir)
  end)
end)
