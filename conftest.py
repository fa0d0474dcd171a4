"""This project's suite spells the device option ``--device`` (``pytest benchmarks/ --device=iphone``). The
plugin's own option is ``--kokoro-device``, so that projects with their own ``--device`` can install it.

pytest_kokoro is imported inside the hook, not at the top: ``pytest-benchmark compare`` imports this file before it
builds a pytest config, and a plugin module imported before pytest loads it cannot have its asserts rewritten
(PytestAssertRewriteWarning, an error under this project's filterwarnings = error)."""


def pytest_addoption(parser):
    from pytest_kokoro.plugin.options import add_device_alias

    add_device_alias(parser)
