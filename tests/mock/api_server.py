#!/usr/bin/env python3
"""Loopback stand-in for the web APIs the recipes call.

Answers as the services document it:
  POST /v1/images/generations        OpenAI images   (Authorization: Bearer KEY)
  POST /v1/audio/speech              OpenAI speech   (Authorization: Bearer KEY)
  POST /v1/text-to-speech/{voice_id} ElevenLabs TTS  (xi-api-key: KEY)
  POST /v1/text-to-speech/{voice_id}/with-timestamps
                                     the same, answering JSON {audio_base64,
                                     alignment, normalized_alignment}: one
                                     character every "char_seconds" (0.06)
  POST /fal-ai/{model...}            fal.run         (Authorization: Key KEY)
  GET  /files/{name}                 a generated file (image URLs point here)
Hostile answers, for the hardening tests (GET /hostile/NAME?param=value...,
or a plan entry {"hostile": NAME, param: value...} for an API request):
  gzip_bomb      200, Content-Encoding gzip ("encoding": "deflate" for
                 zlib), "size" decoded bytes of zeros (default 4 GiB) in
                 about a thousandth of that on the wire, with a Content-Length
  huge_length    200 with Content-Length 2 GiB, streaming until the client
                 hangs up
  bytes          200 with exactly "n" bytes of MP3-looking data ("chunked": 1
                 for no Content-Length)
  html           200 text/html (a login page)
  json           200 application/json
  wrong_bytes    200 audio/mpeg whose body is text
  empty          200 audio/mpeg with an empty body
  short_mp3      200 audio/mpeg with a whole, well-formed MP3 of "seconds"
                 (default 0.5): a track cut short where a frame ends
  octet          200 application/octet-stream with MP3 ("what": "png" for PNG)
  echo_404       404 text/plain repeating the request's path, query and
                 Authorization header
  key_at         400 text/plain: "at" bytes of text, then the key sent (its
                 Authorization or xi-api-key header), then more text
  redirect_loop  302 to itself, forever
  slow           a PNG after "delay" seconds (default 30)
  garbage        bytes that are not HTTP at all
  bad_gzip       200 with Content-Encoding gzip and a body that is not gzip
Every hostile answer gives "content_type" to override its type.
Control, for the tests:
  POST /_mock/plan      {"plan": [{"status": 429, "retry_after": "1"}, ...]}
                        answers to give the next API requests, in order; an
                        entry may set "kind": "url" (images as URLs instead of
                        base64), "url_path": "/hostile/echo_404?key=KEY" (fal
                        and OpenAI image URLs point there; KEY is replaced by
                        the key), "echo_key": true (the error repeats the key),
                        "delay": seconds (answer late) or "hostile" (above)
  GET  /_mock/requests  every API request so far (method, path, headers, body),
                        GET /hostile/ ones included
  GET  /_mock/stats     per hostile answer: {"started": n, "sent": bytes,
                        "hung_up": n (the client left before the end)}
  POST /_mock/shutdown
Listens on 127.0.0.1 only, on a free port it prints as the first line of
stdout, and exits by itself after --lifetime seconds whatever happens.
With --tls it speaks HTTPS with a self-signed certificate made on the spot
(openssl), which no client should trust.
"""
import argparse
import base64
import json
import os
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def make_png(width, height, rgb=(40, 90, 160)):
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PNG = make_png(64, 96)
def make_mp3(seconds):
    """A real MP3 (a quiet tone), as a speech service answers: clients check
    that a track plays whole and is long enough for its words."""
    return subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
         "sine=frequency=220:duration=%g" % seconds, "-af", "volume=0.3", "-ac", "1",
         "-ar", "22050", "-b:a", "32k", "-f", "mp3", "-"],
        check=True, stdout=subprocess.PIPE, env=dict(os.environ, LD_PRELOAD="")).stdout


# Long enough for 24 words at the fastest a voice speaks (6 a second).
MP3 = make_mp3(4)

OPENAI_ERRORS = {
    400: ("invalid_request_error", None, "Invalid value for 'size'."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided: {masked}. "
          "You can find your API key at https://platform.openai.com/account/api-keys."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again in 1s."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    503: ("server_error", None, "The engine is currently overloaded, please try again later"),
}
ELEVEN_ERRORS = {
    400: ("max_character_limit_exceeded", "This request's text exceeds the character limit."),
    401: ("invalid_api_key", "Invalid API key"),
    429: ("too_many_concurrent_requests", "Too many concurrent requests. Please try again later."),
    500: ("internal_error", "An internal server error occurred."),
    503: ("service_unavailable", "The service is temporarily unavailable."),
}
FAL_ERRORS = {
    400: "Invalid request: image_size is not supported",
    401: "No user found for Key ID and Secret",
    429: "Too many requests, please slow down",
    500: "Internal server error",
    503: "Service temporarily unavailable",
}


MIB = 1 << 20


def bomb_parts(encoding):
    """(first, steady, wbits) of a deflate stream of zeros in 1 MiB pieces.

    After a full flush the compressor's window is all zeros, so every later
    1 MiB of zeros compresses to the very same bytes: the bomb is streamed
    from these two pieces, never built.
    """
    wbits = 31 if encoding == "gzip" else 15
    c = zlib.compressobj(9, zlib.DEFLATED, wbits)
    zeros = bytes(MIB)
    first = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    steady = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    assert steady == c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    return first, steady, wbits


class State:
    def __init__(self, key, lifetime):
        self.key = key
        self.lock = threading.Lock()
        self.plan = []
        self.requests = []
        self.stats = {}
        self.deadline = time.monotonic() + lifetime
        self.bombs = {}

    def count(self, name, field, n=1):
        with self.lock:
            entry = self.stats.setdefault(name, {"started": 0, "sent": 0, "hung_up": 0})
            entry[field] += n


def masked(key):
    return (key[:3] + "*" * 8 + key[-2:]) if len(key) > 6 else "***"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mock-api/1"

    def log_message(self, *args):
        pass

    def send(self, status, body, content_type="application/json", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    # -- control ------------------------------------------------------------
    def do_GET(self):
        st = self.server.state
        if self.path == "/_mock/requests":
            with st.lock:
                return self.send(200, st.requests)
        if self.path == "/_mock/stats":
            with st.lock:
                return self.send(200, st.stats)
        if self.path.startswith("/files/"):
            return self.send(200, PNG, "image/png")
        if self.path.startswith("/hostile/"):
            url = urllib.parse.urlsplit(self.path)
            params = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
            name = url.path[len("/hostile/"):].split("/")[0]
            with st.lock:
                st.requests.append({"method": "GET", "path": self.path,
                                    "headers": {k.lower(): v for k, v in self.headers.items()},
                                    "body": ""})
            return self.hostile(name, params)
        if self.prompts_get():   # image edits and image-to-video: the block below
            return None
        return self.send(404, {"detail": "Not Found"})

    # -- hostile answers ------------------------------------------------------
    def stream(self, name, pieces):
        """Write pieces (an iterable of bytes) until they end, the client hangs
        up, or the server's lifetime is over."""
        st = self.server.state
        try:
            for piece in pieces:
                if time.monotonic() > st.deadline:
                    break
                self.wfile.write(piece)
                st.count(name, "sent", len(piece))
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            st.count(name, "hung_up")
        self.close_connection = True

    def bomb_pieces(self, encoding, size):
        st = self.server.state
        with st.lock:
            if encoding not in st.bombs:
                st.bombs[encoding] = bomb_parts(encoding)
            first, steady, wbits = st.bombs[encoding]
        n = max(1, size // MIB)
        zeros = bytes(MIB)

        def pieces():
            check = zlib.crc32(b"") if wbits == 31 else zlib.adler32(b"")
            for i in range(n):
                yield first if i == 0 else steady
                check = zlib.crc32(zeros, check) if wbits == 31 else zlib.adler32(zeros, check)
            if wbits == 31:
                yield b"\x03\x00" + struct.pack("<II", check, (n * MIB) & 0xFFFFFFFF)
            else:
                yield b"\x03\x00" + struct.pack(">I", check)
        length = len(first) + (n - 1) * len(steady) + 2 + (8 if wbits == 31 else 4)
        return pieces(), length

    def hostile(self, name, params):
        st = self.server.state
        st.count(name, "started")
        ctype = params.get("content_type")
        if name == "gzip_bomb":
            encoding = params.get("encoding", "gzip")
            pieces, length = self.bomb_pieces(encoding, int(params.get("size", 4 << 30)))
            self.send_response(200)
            self.send_header("Content-Type", ctype or "audio/mpeg")
            self.send_header("Content-Encoding", encoding)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            return self.stream(name, pieces)
        if name == "huge_length":
            self.send_response(200)
            self.send_header("Content-Type", ctype or "audio/mpeg")
            self.send_header("Content-Length", str(2 << 30))
            self.end_headers()
            chunk = MP3[:10] + bytes(64 * 1024 - 10)
            return self.stream(name, (chunk for _ in range((2 << 30) // len(chunk))))
        if name == "bytes":
            n = int(params.get("n", 1000))
            body = (MP3 * (n // len(MP3) + 1))[:n]
            self.send_response(200)
            self.send_header("Content-Type", ctype or "audio/mpeg")
            if params.get("chunked"):
                # HTTP/1.1 chunked: curl learns the size only as it reads.
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                step = 4096
                parts = [b"%x\r\n%s\r\n" % (len(body[i:i + step]), body[i:i + step])
                         for i in range(0, n, step)]
                return self.stream(name, parts + [b"0\r\n\r\n"])
            self.send_header("Content-Length", str(n))
            self.end_headers()
            return self.stream(name, [body])
        if name == "html":
            page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Please sign in</body></html>"
            return self.send(200, page, ctype or "text/html; charset=utf-8")
        if name == "json":
            return self.send(200, {"status": "queued", "id": "req_123"}, ctype or "application/json")
        if name == "wrong_bytes":
            return self.send(200, b"this is not audio at all", ctype or "audio/mpeg")
        if name == "empty":
            return self.send(200, b"", ctype or "audio/mpeg")
        if name == "short_mp3":
            return self.send(200, make_mp3(float(params.get("seconds", 0.5))), ctype or "audio/mpeg")
        if name == "octet":
            return self.send(200, PNG if params.get("what") == "png" else MP3,
                             ctype or "application/octet-stream")
        if name == "echo_404":
            auth = self.headers.get("Authorization")
            text = "Not Found: " + self.path + (" (Authorization: %s)" % auth if auth else "")
            return self.send(404, text.encode(), ctype or "text/plain")
        if name == "key_at":
            auth = self.headers.get("Authorization", "")
            key = self.headers.get("xi-api-key") or auth.split(" ", 1)[-1]
            text = "x" * int(params.get("at", 290)) + key + " was not accepted"
            return self.send(int(params.get("status", 400)), text.encode(), ctype or "text/plain")
        if name == "redirect_loop":
            self.send_response(302)
            self.send_header("Location", self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if name == "slow":
            deadline = time.monotonic() + float(params.get("delay", 30))
            while time.monotonic() < deadline and time.monotonic() < st.deadline:
                time.sleep(0.05)
            try:
                return self.send(200, PNG, ctype or "image/png")
            except (BrokenPipeError, ConnectionResetError):
                return st.count(name, "hung_up")
        if name == "garbage":
            self.close_connection = True
            return self.stream(name, [b"SSH-2.0-OpenSSH_9.2\r\n\x00\x01\x02 not http\r\n\r\n"])
        if name == "bad_gzip":
            body = b"this was never gzip" * 10
            self.send_response(200)
            self.send_header("Content-Type", ctype or "audio/mpeg")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return self.stream(name, [body])
        return self.send(404, {"detail": "no hostile answer named " + name})

    def do_POST(self):
        st = self.server.state
        body = self.read_body()
        if self.path == "/_mock/plan":
            with st.lock:
                st.plan = list(json.loads(body or b"{}").get("plan", []))
            return self.send(200, {"ok": True})
        if self.path == "/_mock/shutdown":
            self.send(200, {"ok": True})
            threading.Thread(target=self.server.shutdown, daemon=True).start()
            return None
        with st.lock:
            st.requests.append({
                "method": "POST", "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
            })
            step = st.plan.pop(0) if st.plan else {}
        if step.get("delay"):
            deadline = time.monotonic() + float(step["delay"])
            while time.monotonic() < deadline and time.monotonic() < st.deadline:
                time.sleep(0.05)
        if step.get("hostile"):
            return self.hostile(step["hostile"], {k: str(v) for k, v in step.items()})
        if self.prompts_post(step, body):   # image edits and image-to-video: the block below
            return None
        if self.path == "/v1/images/generations":
            return self.openai(step, body, self.openai_image)
        if self.path == "/v1/audio/speech":
            return self.openai(step, body, self.openai_speech)
        if self.path.startswith("/v1/text-to-speech/"):
            return self.elevenlabs(step, body)
        if self.path.startswith("/fal-ai/"):
            return self.fal(step, body)
        return self.send(404, {"detail": "Not Found"})

    def file_url(self, step):
        host = "http://127.0.0.1:%d" % self.server.server_address[1]
        path = step.get("url_path", "/files/image.png").replace("KEY", self.server.state.key)
        return host + path

    def retry_headers(self, step):
        return {"Retry-After": str(step["retry_after"])} if "retry_after" in step else {}

    # -- OpenAI ---------------------------------------------------------------
    def openai_error(self, status, step, message=None, param=None):
        etype, code, text = OPENAI_ERRORS.get(status, OPENAI_ERRORS[500])
        auth = self.headers.get("Authorization", "")
        key = auth[len("Bearer "):] if auth.startswith("Bearer ") else auth   # what was sent
        text = message or text.format(masked=key if step.get("echo_key") else masked(key))
        return self.send(status, {"error": {"message": text, "type": etype, "param": param, "code": code}},
                         headers=self.retry_headers(step))

    def openai(self, step, body, success):
        auth = self.headers.get("Authorization", "")
        if step.get("status", 200) == 401 or auth != "Bearer " + self.server.state.key:
            return self.openai_error(401, step)
        if step.get("status", 200) != 200:
            return self.openai_error(step["status"], step)
        try:
            req = json.loads(body)
        except ValueError:
            return self.openai_error(400, step, "We could not parse the JSON body of your request.")
        return success(step, req)

    def openai_image(self, step, req):
        for field in ("model", "prompt"):
            if not isinstance(req.get(field), str) or not req[field]:
                return self.openai_error(400, step, "Missing required parameter: '%s'." % field, field)
        if step.get("kind") == "url":
            item = {"url": self.file_url(step), "revised_prompt": req["prompt"]}
        else:
            item = {"b64_json": base64.b64encode(PNG).decode()}
        return self.send(200, {"created": int(time.time()), "data": [item] * int(req.get("n", 1))})

    def openai_speech(self, step, req):
        for field in ("model", "input", "voice"):
            if not isinstance(req.get(field), str) or not req[field]:
                return self.openai_error(400, step, "Missing required parameter: '%s'." % field, field)
        return self.send(200, MP3, "audio/mpeg")

    # -- ElevenLabs -------------------------------------------------------------
    def elevenlabs(self, step, body):
        status = step.get("status", 200)
        key = self.server.state.key
        sent = self.headers.get("xi-api-key") or ""
        if status == 401 or sent != key:
            status = 401
        if status != 200:
            code, text = ELEVEN_ERRORS.get(status, ELEVEN_ERRORS[500])
            if step.get("echo_key"):
                text += " (key " + sent + ")"
            return self.send(status, {"detail": {"status": code, "message": text}},
                             headers=self.retry_headers(step))
        try:
            req = json.loads(body)
        except ValueError:
            req = None
        if not isinstance(req, dict) or not isinstance(req.get("text"), str):
            return self.send(422, {"detail": [{"loc": ["body", "text"], "msg": "field required",
                                               "type": "value_error.missing"}]})
        if self.path.split("?")[0].endswith("/with-timestamps"):
            return self.elevenlabs_with_timestamps(step, req)
        return self.send(200, MP3, "audio/mpeg")

    # -- ElevenLabs with timestamps (captions) -----------------------------------
    def elevenlabs_with_timestamps(self, step, req):
        """As ElevenLabs documents it: the audio as base64, and for each
        character of the text the time it starts and ends, in seconds."""
        chars = list(req["text"])
        step_s = float(step.get("char_seconds", 0.06))
        starts = [round(i * step_s, 3) for i in range(len(chars))]
        ends = [round((i + 1) * step_s, 3) for i in range(len(chars))]
        alignment = {"characters": chars, "character_start_times_seconds": starts,
                     "character_end_times_seconds": ends}
        return self.send(200, {"audio_base64": base64.b64encode(MP3).decode(),
                               "alignment": alignment, "normalized_alignment": alignment})

    # -- fal ------------------------------------------------------------------
    def fal_refused(self, step):
        """fal's answer to a wrong key or a planned error status: sent, True."""
        status = step.get("status", 200)
        if status == 401 or self.headers.get("Authorization") != "Key " + self.server.state.key:
            status = 401
        if status == 200:
            return False
        self.send(status, {"detail": FAL_ERRORS.get(status, FAL_ERRORS[500])},
                  headers=self.retry_headers(step))
        return True

    def fal(self, step, body):
        if self.fal_refused(step):
            return None
        try:
            req = json.loads(body)
        except ValueError:
            req = None
        if not isinstance(req, dict) or not isinstance(req.get("prompt"), str):
            return self.send(422, {"detail": [{"loc": ["body", "prompt"], "msg": "field required",
                                               "type": "missing"}]})
        image = {"url": self.file_url(step), "width": 64, "height": 96, "content_type": "image/png"}
        return self.send(200, {"images": [image] * int(req.get("num_images", 1)),
                               "timings": {"inference": 0.05}, "seed": 42,
                               "has_nsfw_concepts": [False], "prompt": req["prompt"]})


# ---- image edits and image-to-video (issue 11) --------------------------------------
# What the edit chain and the animation recipe call, answered as the services document:
#   POST /v1/images/edits            OpenAI image edits: multipart/form-data with model,
#                                    image (a PNG file), prompt, size, n; b64_json answer
#   POST /fal-ai/{model}/edit        fal edit models (nano-banana/edit): JSON with prompt and
#                                    image_urls (a data: URI works); images[0].url answer
#   POST /v1/videos                  OpenAI videos: multipart with prompt, model, seconds
#                                    ("4", "8", "12"), size and input_reference (an image of
#                                    exactly that size); answers a video object, "queued"
#   GET  /v1/videos/{id}             the object: "in_progress", then "completed" (or "failed"
#                                    with error {code, message})
#   GET  /v1/videos/{id}/content     the MP4 (404 until completed)
#   POST /queue/{model...}           fal's queue: {request_id, status_url, response_url,
#                                    cancel_url, queue_position}; the URLs name the app
#                                    (owner/name) without the model's subpath, as fal's do
#   GET  /queue/{app}/requests/{id}/status   IN_QUEUE, IN_PROGRESS, then COMPLETED
#   GET  /queue/{app}/requests/{id}          the result: {video: {url, content_type, ...}}
#   GET  /edited/{n}.png, /video/clip.mp4    what answers point to
# Each edit answers a different image (its colour from a counter), so that a test can
# tell which image each request carried. A plan entry for a POST may set "polls" (status
# answers before the job is done, default 1), "poll_errors" (that many status requests
# answered 503 first), "fail": true (the job fails), "status" (the submit answers it),
# "url_host" (fal's status and response URLs name that host instead of this one).
# Multipart requests are recorded with "parts": name -> {value} or {filename,
# content_type, size, sha256}.
import hashlib  # noqa: E402
import tempfile  # noqa: E402

OPENAI_VIDEO_SIZES = {"720x1280", "1280x720", "1024x1792", "1792x1024"}


def parse_multipart(content_type, body):
    """name -> {"value": text} or {"filename", "content_type", "data"}; None when unreadable."""
    if not content_type or not content_type.startswith("multipart/form-data"):
        return None
    boundary = None
    for piece in content_type.split(";")[1:]:
        k, _, v = piece.strip().partition("=")
        if k.lower() == "boundary":
            boundary = v.strip('"')
    if not boundary:
        return None
    delimiter = b"--" + boundary.encode()
    if not body.startswith(delimiter) or delimiter + b"--" not in body:
        return None
    parts = {}
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        if not chunk.startswith(b"\r\n") or not chunk.endswith(b"\r\n"):
            return None
        head, sep, data = chunk[2:-2].partition(b"\r\n\r\n")
        if not sep:
            return None
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        disposition = headers.get("content-disposition", "")
        fields = dict(p.strip().split("=", 1) for p in disposition.split(";")[1:] if "=" in p)
        name = fields.get("name", "").strip('"')
        if "filename" in fields:
            parts[name] = {"filename": fields["filename"].strip('"'),
                           "content_type": headers.get("content-type", ""), "data": data}
        else:
            parts[name] = {"value": data.decode("utf-8", "replace")}
    return parts


def png_size(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", data[16:24])


def mp4_bytes(state):
    with state.lock:
        if getattr(state, "mp4", None) is None:
            with tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "clip.mp4")
                subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                                "testsrc=size=72x128:rate=25", "-t", "2", "-pix_fmt", "yuv420p",
                                "-c:v", "libx264", "-preset", "ultrafast", "-f", "mp4", out], check=True)
                with open(out, "rb") as f:
                    state.mp4 = f.read()
        return state.mp4


def summary(parts):
    out = {}
    for name, part in (parts or {}).items():
        if "data" in part:
            out[name] = {"filename": part["filename"], "content_type": part["content_type"],
                         "size": len(part["data"]), "sha256": hashlib.sha256(part["data"]).hexdigest()}
        else:
            out[name] = {"value": part["value"]}
    return out


def prompts_record(self, extra):
    """Add to this request's record (the last one with its path)."""
    st = self.server.state
    with st.lock:
        for record in reversed(st.requests):
            if record["path"] == self.path:
                record.update(extra)
                return


def prompts_next_image(self):
    st = self.server.state
    with st.lock:
        st.edits = getattr(st, "edits", 0) + 1
        n = st.edits
    return n, make_png(64, 96, ((n * 67) % 256, (n * 131) % 256, (n * 29 + 80) % 256))


def prompts_post(self, step, body):
    path = self.path
    if path == "/v1/images/edits":
        return self.openai(step, b"{}", lambda st_, _req: self.openai_image_edit(step, body)) or True
    if path == "/v1/videos":
        return self.openai(step, b"{}", lambda st_, _req: self.openai_video_create(step, body)) or True
    if path.startswith("/fal-ai/") and path.endswith("/edit"):
        self.fal_edit(step, body)
        return True
    if path.startswith("/queue/"):
        self.fal_queue_submit(step, body)
        return True
    return False


def openai_image_edit(self, step, body):
    parts = parse_multipart(self.headers.get("Content-Type"), body)
    self.prompts_record({"parts": summary(parts), "body": ""})
    if parts is None:
        return self.openai_error(400, step, "Invalid request: the body must be multipart/form-data.")
    for field in ("model", "prompt"):
        if not parts.get(field, {}).get("value"):
            return self.openai_error(400, step, "Missing required parameter: '%s'." % field, field)
    image = parts.get("image") or parts.get("image[]")
    if not image or "data" not in image:
        return self.openai_error(400, step, "Missing required parameter: 'image'.", "image")
    if png_size(image["data"]) is None:
        return self.openai_error(400, step, "Invalid input image - format must be in "
                                 "['image/png', 'image/jpeg', 'image/webp'].", "image")
    _, png = self.prompts_next_image()
    return self.send(200, {"created": int(time.time()), "data": [{"b64_json": base64.b64encode(png).decode()}],
                           "usage": {"input_tokens": 50, "output_tokens": 1056, "total_tokens": 1106}})


def fal_edit(self, step, body):
    if self.fal_refused(step):
        return None
    try:
        req = json.loads(body)
    except ValueError:
        req = None
    urls = req.get("image_urls") if isinstance(req, dict) else None
    if not isinstance(req, dict) or not isinstance(req.get("prompt"), str) or not req["prompt"]:
        return self.send(422, {"detail": [{"loc": ["body", "prompt"], "msg": "field required", "type": "missing"}]})
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
        return self.send(422, {"detail": [{"loc": ["body", "image_urls"], "msg": "field required",
                                           "type": "missing"}]})
    n, _ = self.prompts_next_image()
    host = "http://127.0.0.1:%d" % self.server.server_address[1]
    image = {"url": "%s/edited/%d.png" % (host, n), "content_type": "image/png", "file_name": "%d.png" % n,
             "width": 64, "height": 96}
    return self.send(200, {"images": [image], "description": ""})


def openai_video_create(self, step, body):
    parts = parse_multipart(self.headers.get("Content-Type"), body)
    self.prompts_record({"parts": summary(parts), "body": ""})
    if parts is None:
        return self.openai_error(400, step, "Invalid request: the body must be multipart/form-data.")
    for field in ("prompt", "model"):
        if not parts.get(field, {}).get("value"):
            return self.openai_error(400, step, "Missing required parameter: '%s'." % field, field)
    seconds = parts.get("seconds", {}).get("value", "4")
    size = parts.get("size", {}).get("value", "720x1280")
    if seconds not in ("4", "8", "12"):
        return self.openai_error(400, step, "Invalid value: '%s'. Supported values are: '4', '8', and '12'."
                                 % seconds, "seconds")
    if size not in OPENAI_VIDEO_SIZES:
        return self.openai_error(400, step, "Invalid value: '%s' for size." % size, "size")
    ref = parts.get("input_reference")
    if ref is not None:
        dims = png_size(ref.get("data", b""))
        if dims is None or "%dx%d" % dims != size:
            return self.openai_error(400, step, "Inpaint image must match the requested width and height",
                                     "input_reference")
    st = self.server.state
    with st.lock:
        st.videos = getattr(st, "videos", {})
        vid = "video_%032x" % (len(st.videos) + 1)
        st.videos[vid] = {"polls": int(step.get("polls", 1)), "poll_errors": int(step.get("poll_errors", 0)),
                          "fail": bool(step.get("fail")), "seconds": seconds, "size": size,
                          "model": parts["model"]["value"], "prompt": parts["prompt"]["value"],
                          "created_at": int(time.time())}
    return self.send(200, self.openai_video_object(vid, "queued", 0))


def openai_video_object(self, vid, status, progress):
    job = self.server.state.videos[vid]
    obj = {"id": vid, "object": "video", "model": job["model"], "status": status, "progress": progress,
           "created_at": job["created_at"], "completed_at": None, "expires_at": None,
           "prompt": job["prompt"], "size": job["size"], "seconds": job["seconds"],
           "remixed_from_video_id": None, "error": None}
    if status == "completed":
        obj["completed_at"] = int(time.time())
    if status == "failed":
        obj["error"] = {"code": "moderation_blocked",
                        "message": "Your request was blocked by our moderation system."}
    return obj


def fal_queue_submit(self, step, body):
    if self.fal_refused(step):
        return None
    try:
        req = json.loads(body)
    except ValueError:
        req = None
    if not isinstance(req, dict) or not isinstance(req.get("prompt"), str) or not req["prompt"]:
        return self.send(422, {"detail": [{"loc": ["body", "prompt"], "msg": "field required", "type": "missing"}]})
    if not isinstance(req.get("image_url"), str) or not req["image_url"]:
        return self.send(422, {"detail": [{"loc": ["body", "image_url"], "msg": "field required",
                                           "type": "missing"}]})
    model = self.path[len("/queue/"):]
    app = "/".join(model.split("/")[:2])
    st = self.server.state
    with st.lock:
        st.fal_jobs = getattr(st, "fal_jobs", {})
        rid = "%08x-0000-4000-8000-%012x" % (len(st.fal_jobs) + 1, len(st.fal_jobs) + 1)
        st.fal_jobs[rid] = {"polls": int(step.get("polls", 1)), "poll_errors": int(step.get("poll_errors", 0)),
                            "fail": bool(step.get("fail")), "app": app}
    base = "http://%s:%d/queue/%s/requests/%s" % (step.get("url_host", "127.0.0.1"),
                                                  self.server.server_address[1], app, rid)
    return self.send(200, {"status": "IN_QUEUE", "request_id": rid, "response_url": base,
                           "status_url": base + "/status", "cancel_url": base + "/cancel",
                           "logs": None, "metrics": {}, "queue_position": 0})


def prompts_get(self):
    st = self.server.state
    path = urllib.parse.urlsplit(self.path).path
    if path.startswith("/edited/"):
        n = int(path[len("/edited/"):].split(".")[0] or 0)
        return self.send(200, make_png(64, 96, ((n * 67) % 256, (n * 131) % 256, (n * 29 + 80) % 256)),
                         "image/png") or True
    if path == "/video/clip.mp4":
        return self.send(200, mp4_bytes(st), "video/mp4") or True
    if not (path.startswith("/v1/videos/") or path.startswith("/queue/")):
        return False
    with st.lock:
        st.requests.append({"method": "GET", "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()}, "body": ""})
    if path.startswith("/v1/videos/"):
        return self.openai_video_get(path) or True
    return self.fal_queue_get(path) or True


def prompts_poll(job):
    """What a status request sees: "error" (a 503), "running" or "done"."""
    if job["poll_errors"] > 0:
        job["poll_errors"] -= 1
        return "error"
    if job["polls"] > 0:
        job["polls"] -= 1
        return "running"
    return "done"


def openai_video_get(self, path):
    if self.headers.get("Authorization", "") != "Bearer " + self.server.state.key:
        return self.openai_error(401, {})
    rest = path[len("/v1/videos/"):].split("/")
    st = self.server.state
    job = getattr(st, "videos", {}).get(rest[0])
    if job is None:
        return self.send(404, {"error": {"message": "Video not found", "type": "invalid_request_error",
                                         "param": None, "code": "not_found"}})
    if len(rest) == 2 and rest[1] == "content":
        if not job.get("done") or job["fail"]:
            return self.send(404, {"error": {"message": "Video is not ready", "type": "invalid_request_error",
                                             "param": None, "code": None}})
        return self.send(200, mp4_bytes(st), "video/mp4")
    with st.lock:
        state = prompts_poll(job)
    if state == "error":
        return self.openai_error(503, {})
    if state == "running":
        return self.send(200, self.openai_video_object(rest[0], "in_progress", 50))
    job["done"] = True
    return self.send(200, self.openai_video_object(rest[0], "failed" if job["fail"] else "completed",
                                                   100 if not job["fail"] else 0))


def fal_queue_get(self, path):
    if self.headers.get("Authorization") != "Key " + self.server.state.key:
        return self.send(401, {"detail": FAL_ERRORS[401]})
    parts = path[len("/queue/"):].split("/")
    st = self.server.state
    if len(parts) < 4 or parts[2] != "requests":
        return self.send(404, {"detail": "Not Found"})
    job = getattr(st, "fal_jobs", {}).get(parts[3])
    if job is None or job["app"] != "/".join(parts[:2]):
        return self.send(404, {"detail": "Request not found"})
    base = "http://127.0.0.1:%d/queue/%s/requests/%s" % (self.server.server_address[1], job["app"], parts[3])
    if len(parts) == 5 and parts[4] == "status":
        with st.lock:
            state = prompts_poll(job)
        if state == "error":
            return self.send(503, {"detail": FAL_ERRORS[503]})
        if state == "running":
            return self.send(200, {"status": "IN_PROGRESS", "response_url": base, "logs": None})
        job["done"] = True
        return self.send(200, {"status": "COMPLETED", "response_url": base, "logs": None,
                               "metrics": {"inference_time": 1.5}})
    if len(parts) == 4:
        if not job.get("done"):
            return self.send(400, {"detail": "Request is still in progress"})
        if job["fail"]:
            return self.send(422, {"detail": [{"loc": ["body", "image_url"], "msg":
                                               "Image could not be processed: content policy violation",
                                               "type": "value_error"}]})
        host = "http://127.0.0.1:%d" % self.server.server_address[1]
        return self.send(200, {"video": {"url": host + "/video/clip.mp4", "content_type": "video/mp4",
                                         "file_name": "output.mp4", "file_size": len(mp4_bytes(st))}})
    return self.send(404, {"detail": "Not Found"})


for _fn in (prompts_record, prompts_next_image, prompts_post, openai_image_edit, fal_edit,
            openai_video_create, openai_video_object, fal_queue_submit, prompts_get,
            openai_video_get, fal_queue_get):
    setattr(Handler, _fn.__name__, _fn)
# ---- end of the image edits and image-to-video block --------------------------------


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that hung up (as the hardening tests' clients do on
        # purpose) is not the server's error: no traceback on stderr.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--key", default="sk-test-0123456789abcdef")
    ap.add_argument("--lifetime", type=float, default=120.0)
    ap.add_argument("--tls", action="store_true")
    args = ap.parse_args()
    server = Server(("127.0.0.1", 0), Handler)
    if args.tls:
        import shutil
        import ssl
        import subprocess
        import tempfile
        tmp = tempfile.mkdtemp()
        try:
            cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                            "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
        finally:
            shutil.rmtree(tmp)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.state = State(args.key, args.lifetime)
    # Whatever becomes of the test that started us, we go away.
    timer = threading.Timer(args.lifetime, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
