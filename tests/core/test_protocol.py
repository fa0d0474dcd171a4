import json
import re

import pytest

from pytest_kokoro.core import protocol
from pytest_kokoro.core.protocol import ProtocolError, parse_event, parse_request
from pytest_kokoro.harness.server import read_lines
from tests.conftest import ROOT, load_spec

EXAMPLES = load_spec("protocol_examples.json")


def test_spec_constants_match_the_code():
    assert EXAMPLES["protocol_version"] == protocol.PROTOCOL_VERSION
    assert EXAMPLES["max_line_bytes"] == protocol.MAX_LINE_BYTES
    assert list(EXAMPLES["error_codes"]) == list(protocol.ERROR_CODES)


@pytest.mark.parametrize("message", EXAMPLES["requests"], ids=lambda m: m["type"])
def test_example_requests_parse(message):
    request = parse_request(json.dumps(message))
    assert request.type == message["type"]
    for key, value in message.items():
        if key != "type":
            assert request.fields[key] == value


@pytest.mark.parametrize("message", EXAMPLES["events"], ids=lambda m: m["type"])
def test_example_events_parse_and_round_trip(message):
    assert parse_event(protocol.encode(message)) == message
    assert list(json.loads(protocol.encode(message))) == list(message)


@pytest.mark.parametrize("case", EXAMPLES["invalid_requests"], ids=lambda c: c["code"] + ":" + c["line"][:20])
def test_invalid_requests_get_their_code(case):
    with pytest.raises(ProtocolError) as caught:
        parse_request(case["line"])
    assert caught.value.code == case["code"]
    assert caught.value.message


def test_run_defaults_are_filled():
    request = parse_request('{"type": "run", "id": "r", "text": "Hi.", "voice": "v", "variant": "int8"}')
    assert (request.speed, request.warmup, request.send_audio, request.round) == (1.0, True, False, 0)


def test_bool_is_not_an_int():
    with pytest.raises(ProtocolError, match="round") as caught:
        parse_request('{"type": "run", "id": "r", "text": "Hi.", "voice": "v", "variant": "int8", "round": true}')
    assert caught.value.code == "bad_value"


def test_over_long_line_is_rejected_and_the_next_line_still_read(tmp_path):
    stream = tmp_path / "in"
    stream.write_bytes(b'{"type": "ping", "id": "' + b"x" * (protocol.MAX_LINE_BYTES + 10) + b'"}\n{"type": "ping", "id": "p2"}\n')
    with open(stream, "rb") as handle:
        lines = list(read_lines(handle))
    assert len(lines) == 2
    with pytest.raises(ProtocolError) as caught:
        parse_request(lines[0])
    assert caught.value.code == "line_too_long"
    assert parse_request(lines[1]).id == "p2"


def test_garbage_event_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="not JSON"):
        parse_event(b"Segmentation fault\n")
    with pytest.raises(ProtocolError, match="lacks"):
        parse_event(b'{"type": "chunk", "id": "r1"}')


def test_every_message_in_the_protocol_doc_is_valid():
    doc = (ROOT / "docs" / "protocol.md").read_text()
    blocks = re.findall(r"```json\n(.*?)```", doc, flags=re.S)
    lines = [line for block in blocks for line in block.splitlines() if line.strip()]
    assert len(lines) >= 10
    known = {json.dumps(m, sort_keys=True) for m in EXAMPLES["requests"] + EXAMPLES["events"]}
    for line in lines:
        message = json.loads(line)
        assert json.dumps(message, sort_keys=True) in known, f"docs/protocol.md shows a message not in the spec: {line}"


def test_audio_round_trips():
    import numpy as np

    samples = np.array([0.0, 1.0, -1.0, 0.25], dtype=np.float32)
    event = {"type": "audio", "id": "r", "index": 0, "encoding": "f32le-base64", "data": protocol.encode_audio(samples)}
    assert np.array_equal(protocol.decode_audio(event), samples)
    assert protocol.encode_audio(samples) == EXAMPLES["events"][4]["data"] + "AACAPg=="
