"""pytest-kokoro: benchmark Kokoro-82M streaming text-to-speech on the host, a Swift harness and real iPhones."""

__version__ = "0.1.0"
