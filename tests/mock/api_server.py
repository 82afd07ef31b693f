#!/usr/bin/env python3
"""Loopback stand-in for the web APIs the recipes call.

Answers as the services document it:
  POST /v1/images/generations        OpenAI images   (Authorization: Bearer KEY)
  POST /v1/audio/speech              OpenAI speech   (Authorization: Bearer KEY)
  POST /v1/text-to-speech/{voice_id} ElevenLabs TTS  (xi-api-key: KEY)
  POST /fal-ai/{model...}            fal.run         (Authorization: Key KEY)
  GET  /files/{name}                 a generated file (image URLs point here)
Control, for the tests:
  POST /_mock/plan      {"plan": [{"status": 429, "retry_after": "1"}, ...]}
                        answers to give the next API requests, in order; an
                        entry may set "kind": "url" (images as URLs instead of
                        base64), "echo_key": true (the error repeats the key)
                        or "delay": seconds (answer late)
  GET  /_mock/requests  every API request so far (method, path, headers, body)
  POST /_mock/shutdown
Listens on 127.0.0.1 only, on a free port it prints as the first line of
stdout, and exits by itself after --lifetime seconds whatever happens.
"""
import argparse
import base64
import json
import os
import struct
import sys
import threading
import time
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


class State:
    def __init__(self, key):
        self.key = key
        self.lock = threading.Lock()
        self.plan = []
        self.requests = []


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
        if self.path.startswith("/files/"):
            return self.send(200, PNG, "image/png")
        return self.send(404, {"detail": "Not Found"})

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
            time.sleep(float(step["delay"]))
        if self.path == "/v1/images/generations":
            return self.openai(step, body, self.openai_image)
        if self.path == "/v1/audio/speech":
            return self.openai(step, body, self.openai_speech)
        if self.path.startswith("/v1/text-to-speech/"):
            return self.elevenlabs(step, body)
        if self.path.startswith("/fal-ai/"):
            return self.fal(step, body)
        return self.send(404, {"detail": "Not Found"})

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
            host = "http://127.0.0.1:%d" % self.server.server_address[1]
            item = {"url": host + "/files/image.png", "revised_prompt": req["prompt"]}
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
        return self.send(200, MP3, "audio/mpeg")

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
        host = "http://127.0.0.1:%d" % self.server.server_address[1]
        image = {"url": host + "/files/image.png", "width": 64, "height": 96, "content_type": "image/png"}
        return self.send(200, {"images": [image] * int(req.get("num_images", 1)),
                               "timings": {"inference": 0.05}, "seed": 42,
                               "has_nsfw_concepts": [False], "prompt": req["prompt"]})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--key", default="sk-test-0123456789abcdef")
    ap.add_argument("--lifetime", type=float, default=120.0)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.state = State(args.key)
    # Whatever becomes of the test that started us, we go away.
    timer = threading.Timer(args.lifetime, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
