"""This project's suite spells the device option ``--device`` (``pytest benchmarks/ --device=iphone``). The
plugin's own option is ``--kokoro-device``, so that projects with their own ``--device`` can install it."""

from pytest_kokoro.plugin.options import add_device_alias


def pytest_addoption(parser):
    add_device_alias(parser)
