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
# Not a playable MP3, but what a client must store byte for byte.
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" + b"mock-mp3-audio" * 16

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
    def fal(self, step, body):
        status = step.get("status", 200)
        if status == 401 or self.headers.get("Authorization") != "Key " + self.server.state.key:
            status = 401
        if status != 200:
            return self.send(status, {"detail": FAL_ERRORS.get(status, FAL_ERRORS[500])},
                             headers=self.retry_headers(step))
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
