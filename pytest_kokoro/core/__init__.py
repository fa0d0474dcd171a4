"""Shared by every layer and by the host harness: protocol, result schema, metrics, sentence splitting, texts,
calibration, strict JSON files. Imports nothing of pytest-kokoro's own."""
