"""The host harness, ``python -m pytest_kokoro.harness``: the real Kokoro-82M on onnxruntime or, with ``--engine
sherpa-onnx``, on sherpa-onnx's C library (the build the Swift harness links). Imports only core."""
