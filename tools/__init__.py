"""Measurement and analysis tools run from a checkout (python tools/NAME.py); under the import contracts."""
