"""Audio quality: model-free checks of every round's audio (checks.py), the length the model's phoneme tokens
allow (duration.py) and intelligibility against the known text (intelligibility.py). Imports only the core and
third-party libraries, so any layer above may call it after the clock has stopped."""
