"""Runs the official OpenAI and Google GenAI SDKs against the fake providers.

Usage: check_sdks.py OPENAI_BASE_URL GEMINI_BASE_URL

The Rust test that starts the fakes queues their answers in the order of the calls
below. Prints "ok <check>" for each check that passed; exits non-zero on the first
failure (an exception with the SDK's own message).
"""

import base64
import io
import struct
import sys
import tempfile
import zlib

import openai
from google import genai
from google.genai import errors as genai_errors
from google.genai import types


def png(width=16, height=16):
    """A tiny valid PNG, without third-party imaging libraries."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"".join(bytes([(x * 16) % 256, (y * 16) % 256, 128]) for x in range(width)) for y in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def is_png(data):
    return data[:8] == b"\x89PNG\r\n\x1a\n"


def ok(check):
    print(f"ok {check}", flush=True)


def check_openai(base):
    client = openai.OpenAI(api_key="sk-sdk-check", base_url=base, max_retries=0)
    r = client.images.generate(model="dall-e-3", prompt="A lighthouse", n=1, size="1024x1024",
                               quality="standard", response_format="b64_json")
    assert is_png(base64.b64decode(r.data[0].b64_json)), "b64_json is a PNG"
    assert r.data[0].revised_prompt, "DALL·E 3 revises the prompt"
    ok("openai b64_json")

    r = client.images.generate(model="dall-e-3", prompt="A lighthouse", response_format="url")
    assert r.data[0].url.endswith(".png"), r.data[0].url
    ok("openai url")

    r = client.images.edit(model="gpt-image-1", prompt="The same, smiling",
                           image=[("a.png", png(), "image/png"), ("b.png", png(8, 8), "image/png")],
                           input_fidelity="high")
    assert is_png(base64.b64decode(r.data[0].b64_json))
    assert r.usage is not None and r.usage.total_tokens > 0
    ok("openai edit")

    try:
        client.images.generate(model="dall-e-3", prompt="Too fast")
        raise AssertionError("a 429 was expected")
    except openai.RateLimitError as e:
        assert e.code == "rate_limit_exceeded", e.code
        assert e.response.headers.get("retry-after-ms") == "10"
    ok("openai 429")

    try:
        client.images.generate(model="dall-e-3", prompt="Wrong key")
        raise AssertionError("a 401 was expected")
    except openai.AuthenticationError as e:
        assert e.code == "invalid_api_key", e.code
    ok("openai 401")

    try:
        client.images.generate(model="dall-e-3", prompt="Refused")
        raise AssertionError("a 400 was expected")
    except openai.BadRequestError as e:
        assert e.code == "content_policy_violation", e.code
    ok("openai safety")


def image_part(response):
    for part in response.candidates[0].content.parts:
        if part.inline_data is not None:
            return part.inline_data
    return None


def check_gemini(base):
    client = genai.Client(
        api_key="gemini-sdk-check",
        http_options=types.HttpOptions(base_url=base, api_version="v1beta",
                                       retry_options=types.HttpRetryOptions(attempts=1)),
    )
    config = types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"],
                                         image_config=types.ImageConfig(aspect_ratio="1:1"))
    r = client.models.generate_content(
        model="gemini-2.5-flash-image",
        contents=["A portrait like this", types.Part.from_bytes(data=png(), mime_type="image/png")],
        config=config,
    )
    data = image_part(r)
    assert data is not None and is_png(data.data) and data.mime_type == "image/png"
    assert r.usage_metadata.total_token_count == 1300
    ok("gemini inline")

    with tempfile.NamedTemporaryFile(suffix=".png") as f:
        f.write(png(32, 32))
        f.flush()
        uploaded = client.files.upload(file=f.name, config=types.UploadFileConfig(mime_type="image/png"))
    fetched = client.files.get(name=uploaded.name)
    while fetched.state.name == "PROCESSING":
        fetched = client.files.get(name=uploaded.name)
    assert fetched.state.name == "ACTIVE", fetched.state
    assert fetched.size_bytes == len(png(32, 32))
    r = client.models.generate_content(
        model="gemini-2.5-flash-image",
        contents=["In this style", types.Part.from_uri(file_uri=fetched.uri, mime_type="image/png")],
        config=config,
    )
    assert image_part(r) is not None
    ok("gemini file")

    try:
        client.models.generate_content(model="gemini-2.5-flash-image", contents="Too fast", config=config)
        raise AssertionError("a 429 was expected")
    except genai_errors.ClientError as e:
        assert e.code == 429, e.code
        assert e.status == "RESOURCE_EXHAUSTED", e.status
        kinds = [d.get("@type", "") for d in e.details["error"]["details"]]
        assert any(k.endswith("RetryInfo") for k in kinds), kinds
    ok("gemini 429")

    r = client.models.generate_content(model="gemini-2.5-flash-image", contents="Refused", config=config)
    assert r.candidates[0].finish_reason.name == "IMAGE_SAFETY", r.candidates[0].finish_reason
    assert image_part(r) is None
    ok("gemini safety")

    client.files.delete(name=uploaded.name)
    names = [f.name for f in client.files.list()]
    assert uploaded.name not in names, names
    ok("gemini delete")


if __name__ == "__main__":
    check_openai(sys.argv[1])
    check_gemini(sys.argv[2])
