-- explainer.media: what a file or an answer is, from its first bytes.
local media = require "explainer.media"
local h = require "helpers"

local PNG = "\137PNG\r\n\26\n\0\0\0\13IHDR"
local JPEG = "\255\216\255\224\0\16JFIF\0"
local WEBP = "RIFF\36\0\0\0WEBPVP8 "
local WAV = "RIFF\36\0\0\0WAVEfmt "
local GIF = "GIF89a\1\0\1\0"
local MP3_ID3 = "ID3\4\0\0\0\0\0\0"
local MP3_FRAME = "\255\251\144\0" .. string.rep("\0", 12)   -- MPEG-1 layer III, 128 kbit/s, 44.1 kHz
local MP4 = "\0\0\0\32ftypisom\0\0\2\0"

describe("explainer.media", function()
  describe("kind_of", function()
    it("tells PNG, JPEG, WebP, GIF, MP3 (ID3 or a bare frame), WAV and MP4 apart", function()
      assert.equal("png", media.kind_of(PNG))
      assert.equal("jpeg", media.kind_of(JPEG))
      assert.equal("webp", media.kind_of(WEBP))
      assert.equal("gif", media.kind_of(GIF))
      assert.equal("mp3", media.kind_of(MP3_ID3))
      assert.equal("mp3", media.kind_of(MP3_FRAME))
      assert.equal("wav", media.kind_of(WAV))
      assert.equal("mp4", media.kind_of(MP4))
    end)

    it("knows no kind for text, JSON, HTML, an empty string or a non-string", function()
      for _, bytes in ipairs { "", "hello", '{"error":"x"}', "<!DOCTYPE html><html>", "RIFF\0\0\0\0AVI LIST" } do
        assert.is_nil(media.kind_of(bytes), bytes)
      end
      assert.is_nil(media.kind_of(nil))
      assert.is_nil(media.kind_of(42))
    end)

    it("does not take an AAC header or a frame with reserved fields for MP3", function()
      assert.is_nil(media.kind_of("\255\241\80\128"))   -- ADTS (layer bits 00)
      assert.is_nil(media.kind_of("\255\235\144\0"))    -- version 01 (reserved)
      assert.is_nil(media.kind_of("\255\251\240\0"))    -- bitrate index 1111
      assert.is_nil(media.kind_of("\255\251\156\0"))    -- sample rate 11 (reserved)
      assert.is_nil(media.kind_of("\255"))
    end)

    it("reads the same kind from the first HEAD_BYTES as from the whole file", function()
      for _, bytes in ipairs { PNG, JPEG, WEBP, GIF, MP3_ID3, MP3_FRAME, WAV, MP4 } do
        local whole = bytes .. string.rep("x", 100)
        assert.equal(media.kind_of(whole), media.kind_of(whole:sub(1, media.HEAD_BYTES)))
      end
    end)
  end)

  describe("accepted", function()
    it("expands a family to its kinds and names it for messages", function()
      local set, name = media.accepted("audio")
      assert.same({ mp3 = true, wav = true }, set)
      assert.equal("audio", name)
      set, name = media.accepted("image")
      assert.same({ png = true, jpeg = true, webp = true, gif = true }, set)
      assert.equal("an image", name)
      set, name = media.accepted({ "png", "jpeg" })
      assert.same({ png = true, jpeg = true }, set)
      assert.equal("a PNG image or a JPEG image", name)
    end)

    it("refuses a kind it does not know, as the caller's mistake", function()
      assert.has_error(function() media.accepted("smell") end,
        "unknown kind of media 'smell' (image, audio, video, png, jpeg, webp, gif, mp3, wav or mp4)")
      assert.has_error(function() media.accepted(nil) end,
        "bad expectation (a kind or a family of media expected, got nil)")
    end)
  end)

  describe("preview", function()
    it("shows control and non-ASCII bytes as \\xNN and cuts long text", function()
      assert.equal("\\x89PNG\\x0D\\x0A\\x1A\\x0A", media.preview("\137PNG\r\n\26\n"))
      assert.equal("abcde...", media.preview("abcdefgh", 5))
      assert.equal("ab...", media.preview("ab\0cd", 5))
      assert.equal("abc...", media.preview("abc", 5, true))
    end)
  end)

  describe("check_file", function()
    local dir
    before_each(function() dir = h.tmpdir() end)
    after_each(function() h.rm_rf(dir) end)

    it("accepts a file of the kind or family asked for", function()
      assert.is_true(media.check_file(h.write(dir .. "/a.png", PNG .. "rest"), "png"))
      assert.is_true(media.check_file(h.write(dir .. "/a.mp3", MP3_ID3 .. "rest"), "audio"))
      assert.is_true(media.check_file(h.write(dir .. "/a.wav", WAV), { "mp3", "wav" }))
      assert.is_true(media.check_file(h.write(dir .. "/a.mp4", MP4), "video"))
    end)

    it("refuses an empty file, naming it", function()
      local ok, err = media.check_file(h.write(dir .. "/narration.mp3", ""), "audio")
      assert.is_nil(ok)
      assert.equal(dir .. "/narration.mp3: empty file", err)
    end)

    it("refuses a file of another kind, saying what it holds", function()
      local ok, err, kind = media.check_file(h.write(dir .. "/final.png", JPEG .. "more"), "png")
      assert.is_nil(ok)
      assert.equal(dir .. "/final.png: not a PNG image, it is a JPEG image (first bytes: "
                   .. "\\xFF\\xD8\\xFF\\xE0\\x00\\x10JFIF\\x00more)", err)
      assert.equal("jpeg", kind)
      ok, err = media.check_file(h.write(dir .. "/narration.mp3", "<html><body>Bad Gateway</body></html>"), "audio")
      assert.is_nil(ok)
      assert.equal(dir .. "/narration.mp3: not audio (first bytes: <html><body>Bad ...)", err)
    end)

    it("refuses a file that is not there with the system's message", function()
      local ok, err = media.check_file(dir .. "/missing.png", "png")
      assert.is_nil(ok)
      assert.matches("missing.png: No such file or directory", err, 1, true)
    end)

    it("reads only the first bytes of a large file", function()
      local path = dir .. "/big.wav"
      local f = assert(io.open(path, "wb"))
      f:write(WAV)
      f:seek("set", 64 * 1024 * 1024)   -- a 64 MB sparse file
      f:write("end")
      f:close()
      local before = collectgarbage("count")
      assert.is_true(media.check_file(path, "wav"))
      assert.is_true(collectgarbage("count") - before < 1024, "check_file read more than its head")
    end)
  end)

  describe("check_whole (real files, cut short as a full disk or a dropped answer leaves them)", function()
    local tool = require "explainer.tool"
    local dir
    setup(function()
      dir = h.tmpdir()
      local function ff(args)
        local argv = { "ffmpeg", "-nostdin", "-v", "error", "-y" }
        for _, a in ipairs(args) do argv[#argv + 1] = a end
        assert(tool.run(argv))
      end
      ff { "-f", "lavfi", "-i", "sine=frequency=300:duration=5", "-b:a", "64k", dir .. "/t.mp3" }
      ff { "-f", "lavfi", "-i", "sine=frequency=300:duration=3", dir .. "/t.wav" }
      ff { "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=3", "-f", "lavfi", "-i",
           "sine=duration=3", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest",
           "-movflags", "+faststart", dir .. "/t.mp4" }
      ff { "-f", "lavfi", "-i", "testsrc=size=320x240", "-frames:v", "1", dir .. "/t.png" }
      ff { "-f", "lavfi", "-i", "testsrc=size=320x240", "-frames:v", "1", dir .. "/t.jpg" }
    end)
    teardown(function() h.rm_rf(dir) end)

    local function cut(name, keep)
      local data = h.read(dir .. "/" .. name)
      return h.write(dir .. "/cut-" .. name, data:sub(1, math.floor(#data * keep)))
    end

    it("passes whole files", function()
      for _, name in ipairs { "t.mp3", "t.wav", "t.mp4", "t.png", "t.jpg" } do
        assert.is_true(media.check_whole(dir .. "/" .. name), name)
      end
    end)

    it("finds each cut short, with what is wrong", function()
      local ok, err = media.check_whole(cut("t.mp3", 0.4), "audio")
      assert.is_nil(ok)
      assert.matches("cut%-t.mp3: cut short %([12]%.%d+ s of the 5%.%d+ s its header declares%)", err)
      ok, err = media.check_whole(cut("t.wav", 0.5))
      assert.is_nil(ok, "wav")
      assert.matches("cut%-t.wav: cut short %(a WAV track does not end as one does%)", err)
      ok, err = media.check_whole(cut("t.mp4", 0.5), "video")
      assert.is_nil(ok, "mp4")
      assert.matches("cut%-t.mp4: ", err)
      for _, name in ipairs { "t.png", "t.jpg" } do
        ok, err = media.check_whole(cut(name, 0.7))
        assert.is_nil(ok, name)
        assert.matches("cut short %(an? %u+ image does not end as one does%)", err)
      end
    end)

    it("says what it found of a whole track and clip: their length, a track's silences, a clip's stream",
       function()
      local mp3 = assert(media.inspect(dir .. "/t.mp3", "audio"))
      local probed = assert(tool.run { "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                                       "default=nw=1:nk=1", dir .. "/t.mp3" })
      assert.equal(tonumber(probed.stdout), mp3.duration, "the header's length, as ffprobe says it")
      assert.same({ "mp3", true }, { mp3.kind, mp3.audio })
      assert.same({}, mp3.silences, "a tone from start to end")
      local mp4 = assert(media.inspect(dir .. "/t.mp4", "video"))
      assert.same({ "h264", 320, 240, "25/1", 75, true }, { mp4.video.codec, mp4.video.width, mp4.video.height,
                                                           mp4.video.rate, mp4.video.frames, mp4.audio })
      assert.matches("^MD5:%x+$", mp4.video.extradata)
      assert.is_false(mp4.keyframe_end, "x264's last frame here is no keyframe")
      assert.same({ kind = "png" }, media.inspect(dir .. "/t.png"))
    end)

    it("checks a WAV by its RIFF size alone, running no program", function()
      -- in a process whose PATH has no ffmpeg or ffprobe: a check that ran
      -- one would fail with "ffprobe not found"
      local lua = assert(io.popen("command -v lua5.4")):read("l")
      local code = ("local m = require 'explainer.media' print(m.check_whole(%q)) print(m.check_whole(%q))")
        :format(dir .. "/t.wav", dir .. "/t.mp3")
      local cmd = ("env PATH=/nonexistent %s %s -e %s 2>&1"):format(
        h.lua_env(), h.shell_quote(lua), h.shell_quote(code))
      local p = assert(io.popen(cmd))
      local out = p:read("a")
      p:close()
      local wav, mp3 = out:match("^([^\n]*)\n([^\n]*)")
      assert.equal("true", wav, out)
      assert.matches("ffprobe not found", mp3)
    end)

    it("takes a program that says it could not write as failed, though it exits 0", function()
      local r, err = tool.run { "sh", "-c", "echo '[mp3 @ 0x1] Error writing trailer of x.mp3: No space left on device' >&2" }
      assert.is_nil(r)
      assert.equal("sh could not write its output: [mp3 @ 0x1] Error writing trailer of x.mp3: "
                   .. "No space left on device", err)
      assert.truthy(tool.run { "sh", "-c", "echo fine >&2" })
    end)
  end)
end)
