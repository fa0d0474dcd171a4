"""Option rows: one flag, its parser, its help and its default, declared once where the option belongs (the plugin's
own table, a device kind's options) and registered by the plugin. Plain data and parsers: no pytest import.

A parser takes the text (from the command line or an ini file) and returns the value, or raises ValueError with a
message that says what is expected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Option:
    """``--kokoro-NAME VALUE`` and the ini key ``kokoro_NAME``."""

    flag: str
    parse: Callable[[str], Any]
    help: str
    default: Any = None
    metavar: str | None = None
    # "store": --flag VALUE; "append": --flag VALUE, repeatable (ini: one value a line); "flag": --flag and
    # --no-flag (ini: true/false)
    action: str = "store"

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def help_text(self) -> str:
        """The help with its default, as ``--help`` shows it (argparse needs ``%%`` for a percent sign)."""
        shown = self.help if self.default is None else f"{self.help} (default: {self.default})"
        return shown.replace("%", "%%")


def comma_list(text: str) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise ValueError("expected a comma-separated list, got nothing")
    return items


def whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None


def positive_int(text: str) -> int:
    value = whole_number(text)
    if value < 1:
        raise ValueError(f"must be at least 1, got {value}")
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"expected a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    value = _number(text)
    if not value > 0:
        raise ValueError(f"must be positive, got {value}")
    return value


def non_negative_float(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise ValueError(f"must be 0 or more, got {value}")
    return value


def assignment(text: str) -> tuple[str, str]:
    """``NAME=VALUE``."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise ValueError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def one_of(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"expected {' or '.join(choices)}, got {text!r}")
        return text

    parse.__name__ = "one_of_" + "_".join(choices)
    return parse


DEFAULT_NOMINAL_WAIT = 600.0


@dataclass(frozen=True)
class CooldownSpec:
    """``--kokoro-cooldown``: a fixed wait of ``seconds`` before every round, or (``until_nominal``) a wait until
    the device reports nominal, at most ``seconds``."""

    seconds: float = 0.0
    until_nominal: bool = False

    def __bool__(self) -> bool:
        return self.until_nominal or self.seconds > 0


def cooldown(text: str) -> CooldownSpec:
    """``SECONDS``, ``nominal`` or ``nominal:MAX_SECONDS``."""
    name, sep, bound = text.strip().partition(":")
    if name != "nominal":
        try:
            return CooldownSpec(non_negative_float(text))
        except ValueError:
            raise ValueError(f"expected SECONDS, nominal or nominal:MAX_SECONDS, got {text!r}") from None
    try:
        return CooldownSpec(positive_float(bound) if sep else DEFAULT_NOMINAL_WAIT, until_nominal=True)
    except ValueError as error:
        raise ValueError(f"nominal:MAX_SECONDS: {error}") from None
