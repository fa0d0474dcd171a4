"""Where a harness runs and how its byte stream is opened: host, swift, iphone (see registry.py)."""
