"""The host harness, ``python -m pytest_kokoro.harness``: the real Kokoro-82M on onnxruntime. Imports only core."""
