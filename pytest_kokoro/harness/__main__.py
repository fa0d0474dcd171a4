"""``python -m pytest_kokoro.harness``: the host harness on stdio (see server.py)."""

import sys

from pytest_kokoro.harness.server import main

sys.exit(main())
