"""Protocol v1 (docs/protocol.md): parse and encode JSON-lines requests and events.

Requests are parsed strictly (a harness rejects what it does not understand with a typed error); events are
checked for the fields the host relies on. spec/protocol_examples.json is the shared set of examples.
"""

from __future__ import annotations

import base64
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_kokoro.core.sentences import SPLIT_NAME, SPLIT_STRATEGIES

PROTOCOL_VERSION = 1
MAX_LINE_BYTES = 1024 * 1024
AUDIO_ENCODING = "f32le-base64"

ERROR_CODES = (
    "bad_json", "bad_request", "line_too_long", "unknown_type", "unknown_field", "missing_field", "bad_value",
    "protocol_mismatch", "unknown_variant", "unknown_voice", "missing_file", "empty_text", "unspeakable_text",
    "text_too_long", "no_audio", "engine_error", "interrupted", "internal",
)

_NUMBER = (int, float)
# type -> field -> (accepted types, default or REQUIRED)
REQUIRED = object()
REQUEST_FIELDS: dict[str, dict[str, tuple[tuple[type, ...], Any]]] = {
    "hello": {"protocol": ((int,), REQUIRED)},
    "load": {"variant": ((str,), REQUIRED)},
    "unload": {"variant": ((str,), REQUIRED)},
    "run": {
        "id": ((str,), REQUIRED),
        "text": ((str,), REQUIRED),
        "voice": ((str,), REQUIRED),
        "variant": ((str,), REQUIRED),
        "speed": (_NUMBER, 1.0),
        "warmup": ((bool,), True),
        "send_audio": ((bool,), False),
        "round": ((int,), 0),
        "split": ((str,), SPLIT_NAME),
    },
    "conditions": {"id": ((str,), REQUIRED)},
    "ping": {"id": ((str,), REQUIRED)},
    "shutdown": {},
}

EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "hello": ("protocol", "harness", "harness_version", "engine", "engine_version", "simulated", "platform",
              "device_model", "os_version", "variants", "voices", "sample_rate"),
    "loaded": ("variant", "model_name", "model_description", "model_load_time", "cold", "variant_sha256"),
    "unloaded": ("variant",),
    "chunk": ("id", "index", "text", "samples", "t"),
    "audio": ("id", "index", "encoding", "data"),
    "done": ("id", "result"),
    "error": ("id", "code", "message", "fatal"),
    "conditions": ("id", "thermal_state", "cpu_temperature_c", "cpu_frequency_mhz", "calibration_time"),
    "pong": ("id",),
    "bye": (),
}


class ProtocolError(Exception):
    """A line that breaks the protocol; ``code`` is one of ERROR_CODES."""

    def __init__(self, code: str, message: str, *, request_id: str | None = None, fatal: bool = False):
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id
        self.fatal = fatal

    def as_event(self) -> dict[str, Any]:
        return error_event(self.code, self.message, request_id=self.request_id, fatal=self.fatal)


@dataclass(frozen=True)
class Request:
    type: str
    fields: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.fields[name]
        except KeyError:
            raise AttributeError(name) from None


def _is_type(value: Any, types: tuple[type, ...]) -> bool:
    # bool is an int in Python, never in the protocol.
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)


def parse_request(line: bytes | str) -> Request:
    """Parse one request line, with defaults filled in; raises ProtocolError with the code docs/protocol.md names."""
    if isinstance(line, str):
        line = line.encode("utf-8", "surrogatepass")
    if len(line) > MAX_LINE_BYTES:
        raise ProtocolError("line_too_long", f"request line of {len(line)} bytes is over the {MAX_LINE_BYTES}-byte limit")
    try:
        data = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ProtocolError("bad_json", f"request is not JSON ({error}); send one JSON object per line") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ProtocolError("bad_request", 'a request is a JSON object with a string "type"')
    kind = data["type"]
    request_id = data.get("id") if isinstance(data.get("id"), str) else None
    if kind not in REQUEST_FIELDS:
        raise ProtocolError("unknown_type", f"unknown request type {kind!r}; known: {', '.join(REQUEST_FIELDS)}",
                            request_id=request_id)
    spec = REQUEST_FIELDS[kind]
    unknown = sorted(set(data) - set(spec) - {"type"})
    if unknown:
        raise ProtocolError("unknown_field", f"{kind} request has unknown fields {unknown}; allowed: {sorted(spec)}",
                            request_id=request_id)
    data = {name: drop_lone_surrogates(value) if isinstance(value, str) else value for name, value in data.items()}
    fields: dict[str, Any] = {}
    for name, (types, default) in spec.items():
        if name not in data:
            if default is REQUIRED:
                raise ProtocolError("missing_field", f"{kind} request needs the field {name!r}", request_id=request_id)
            fields[name] = default
            continue
        value = data[name]
        if not _is_type(value, types):
            raise ProtocolError("bad_value", f"{kind}.{name} must be {'/'.join(t.__name__ for t in types)}, got {value!r}",
                                request_id=request_id)
        fields[name] = value
    if kind == "run":
        fields["speed"] = float(fields["speed"])
        if not (math.isfinite(fields["speed"]) and 0.5 <= fields["speed"] <= 2.0):
            raise ProtocolError("bad_value", f"run.speed must be between 0.5 and 2.0, got {fields['speed']}",
                                request_id=request_id)
        if fields["round"] < 0:
            raise ProtocolError("bad_value", "run.round must be >= 0", request_id=request_id)
        if fields["split"] not in SPLIT_STRATEGIES:
            raise ProtocolError("bad_value", f"run.split must be one of {', '.join(SPLIT_STRATEGIES)}, got "
                                f"{fields['split']!r}", request_id=request_id)
    if kind == "hello" and fields["protocol"] != PROTOCOL_VERSION:
        raise ProtocolError("protocol_mismatch",
                            f"host speaks protocol {fields['protocol']}, this harness speaks {PROTOCOL_VERSION}: "
                            "update the harness or pytest-kokoro so that both match", fatal=True)
    return Request(kind, fields)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def drop_lone_surrogates(text: str) -> str:
    """``text`` without lone surrogates: they are no Unicode scalar values, so no harness can keep them."""
    return _LONE_SURROGATE.sub("", text)


def as_received(text: str) -> str:
    """The string a harness reads when the host sends ``text``: a high surrogate followed by a low one is, once
    escaped, the character the pair encodes (JSON's rule); any other surrogate is dropped."""
    return drop_lone_surrogates(json.loads(encode({"text": text}))["text"])


def encode(message: dict[str, Any]) -> bytes:
    """One message as a line on the wire: keys in the order given, UTF-8, newline-terminated.

    A Python str can hold lone surrogates, which UTF-8 cannot; they go out as their ``\\uXXXX`` JSON escapes
    (so the line stays valid UTF-8) and the harness that reads them drops them (docs/protocol.md, text cleaning).
    """
    line = json.dumps(message, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))
    # Surrogates can only stand inside JSON strings, where an escape means the same code point.
    line = _LONE_SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", line)
    return line.encode("utf-8") + b"\n"


def request(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, **fields}


def error_event(code: str, message: str, *, request_id: str | None = None, fatal: bool = False) -> dict[str, Any]:
    assert code in ERROR_CODES, code
    return {"type": "error", "id": request_id, "code": code, "message": message, "fatal": fatal}


def parse_event(line: bytes | str) -> dict[str, Any]:
    """Parse one event line from a harness; raises ProtocolError('bad_json' / 'bad_request') on garbage."""
    try:
        data = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        shown = line[:200] if isinstance(line, str) else line[:200].decode("utf-8", "replace")
        raise ProtocolError("bad_json", f"harness wrote a line that is not JSON: {shown!r}") from None
    if not isinstance(data, dict) or data.get("type") not in EVENT_FIELDS:
        raise ProtocolError("bad_request", f"harness wrote an unknown event: {str(data)[:200]}")
    missing = [f for f in EVENT_FIELDS[data["type"]] if f not in data]
    if missing:
        raise ProtocolError("missing_field", f"{data['type']} event lacks {missing}: {str(data)[:200]}")
    return data


def encode_audio(samples: np.ndarray) -> str:
    return base64.b64encode(np.asarray(samples, dtype="<f4").tobytes()).decode("ascii")


def decode_audio(event: dict[str, Any]) -> np.ndarray:
    if event["encoding"] != AUDIO_ENCODING:
        raise ProtocolError("bad_value", f"audio encoding {event['encoding']!r} is not {AUDIO_ENCODING!r}")
    return np.frombuffer(base64.b64decode(event["data"]), dtype="<f4")
