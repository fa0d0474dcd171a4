"""Built-in benchmark texts, and texts from a user's file (one text per paragraph)."""

from __future__ import annotations

from pathlib import Path

# kokoro_benchmark.py's default text, verbatim.
REFERENCE_DEFAULT_TEXT = ("Hello, this is a benchmark test of the Kokoro text-to-speech system. We are testing "
                          "different model quantization levels for performance and quality.")

BUILTIN_TEXTS = {
    "default": REFERENCE_DEFAULT_TEXT,
    "short": "Hi there. This is Kokoro.",
    "paragraph": (
        "The harbor was quiet before dawn. Fishing boats rocked gently against the pier, their lanterns still lit. "
        "An old man walked along the water, counting the boats as he had done every morning for forty years. "
        "When the sun finally rose, the first engines coughed to life. By seven o'clock the harbor was empty again."
    ),
}


class TextsError(ValueError):
    pass


def resolve_texts(names: list[str]) -> dict[str, str]:
    """Text id -> text for each name: a built-in text, or a file whose paragraphs are texts (ids stem-1, stem-2...)."""
    texts: dict[str, str] = {}
    for name in names:
        if name in BUILTIN_TEXTS:
            texts[name] = BUILTIN_TEXTS[name]
            continue
        path = Path(name).expanduser()
        if not path.is_file():
            raise TextsError(f"--kokoro-texts: {name!r} is neither a built-in text ({', '.join(BUILTIN_TEXTS)}) "
                             "nor a file with one text per paragraph")
        paragraphs = [p.strip() for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
        if not paragraphs:
            raise TextsError(f"--kokoro-texts: {path} has no text in it")
        for index, paragraph in enumerate(paragraphs, 1):
            texts[f"{path.stem}-{index}"] = paragraph
    return texts
