"""Hypothesis strategies for the empty and odd texts a harness must survive (docs/fuzzing.md).

Every category is a strategy in CATEGORIES; ``fuzz_texts()`` draws from all of them. Sizes are bounded so that one
example costs at most a few seconds on the real model on a 2-core CPU (about 0.4 s per chunk + 20 ms per phoneme
token): short categories stay under a few dozen speakable characters, and the long text is several thousand
characters of which at most LONG_SPEAKABLE_BUDGET are letters (the rest is whitespace or unspeakable filler), so
it exercises the splitter's long-chunk cuts without asking the engine for minutes of speech.
"""

from __future__ import annotations

import string

from hypothesis import strategies as st

NORMAL_SENTENCES = (
    "Hello there.", "How are you today?", "The quick brown fox jumps over the lazy dog.",
    "We are testing the harness.", "It works!", "Dr. Smith went to St. Louis.", "This is fine, really; it is.",
)
WHITESPACE = " \t\n\r\v\f\u00a0\u1680\u2000\u2003\u2009\u200a\u2028\u2029\u202f\u205f\u3000\x85"
PUNCTUATION_EXTRA = ".!?…。！？,;:—–-_'\"()[]{}<>/\\|@#$%^&*~`+=§¶•"
EMOJI = (
    "😀", "🎉", "👍🏽", "❤️", "🇯🇵", "🇺🇳", "1️⃣", "#️⃣", "©️",
    "👨\u200d👩\u200d👧\u200d👦",  # family: ZWJ sequence
    "🏳️\u200d🌈",  # rainbow flag: variation selector + ZWJ
    "👩🏽\u200d💻",  # woman technologist, skin tone + ZWJ
    "🧑\u200d🤝\u200d🧑", "\u200d", "\ufe0f", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
)
ANSI = (
    "\x1b[31m", "\x1b[0m", "\x1b[1;32;40m", "\x1b[2J", "\x1b[H", "\x1b[10;20H", "\x1b[?25l", "\x1b[K",
    "\x1b]0;title\x07", "\x1b(B", "\x1bc", "\x1b[38;5;208m", "\x1b[",
)
SCRIPT_SAMPLES = (
    "שלום עולם", "مرحبا بالعالم", "Hello שלום world", "السلام عليكم and goodbye", "\u202eevil\u202c text",
    "\u200fRTL mark\u200e", "こんにちは世界", "你好，世界。", "Привет, мир!", "नमस्ते दुनिया", "สวัสดีครับ",
    "Γειά σου κόσμε", "한국어 텍스트", "e\u0301te\u0301 cafe\u0301", "Z\u0351\u0352a\u0353l\u0354g\u0355o",
)
SCRIPT_RANGES = ((0x0590, 0x05FF), (0x0600, 0x06FF), (0x0400, 0x04FF), (0x3040, 0x30FF), (0x4E00, 0x4FFF),
                 (0x0900, 0x097F), (0x0E00, 0x0E7F), (0x0300, 0x036F))
MARKUP = (
    "<p>Hello <b>world</b></p>", "<script>alert('x')</script>", "<br/>", "&amp; &lt;tag&gt; &#x1F600; &nbsp;",
    '<speak>Hello <break time="2s"/> world</speak>', '<prosody rate="x-slow">slow</prosody>',
    "<phoneme alphabet=\"ipa\" ph=\"həˈloʊ\">hello</phoneme>", "# Title", "## Sub *title*", "**bold** and _it_",
    "`code()`", "```python\nprint(1)\n```", "[link](https://example.com)", "![img](x.png)", "- item\n- item",
    "1. first\n2. second", "> quoted", "| a | b |\n|---|---|", "---", "<!-- comment -->", "{{ template }}",
    "${HOME}", "%s %d", "\\n\\t",
)
NUMBER_SAMPLES = (
    "0", "-0", "007", "3.14159", "1,000,000", "1.000.000,50", "1e308", "-1e-308", "NaN", "Infinity", "½ ¾",
    "१२३", "٣٤٥", "Ⅻ", "$5.99", "€1,00", "50%", "10:30", "2026-11-24", "+1 (555) 010-9999", "192.168.0.1",
    "0xFF", "1/3", "2^10", "99th", "#1",
)
MAX_SHORT = 24  # code points of random text in a short category
LONG_MIN_CHARS = 2000
LONG_MAX_CHARS = 4000
LONG_SPEAKABLE_BUDGET = 120  # letters in a long text: ~120 phoneme tokens, a few seconds on the real model


def _joined(parts: st.SearchStrategy[list[str]], separators: str | tuple[str, ...] = ("", " ")) -> st.SearchStrategy[str]:
    return st.tuples(parts, st.sampled_from(separators)).map(lambda pair: pair[1].join(pair[0]))


def _with_words(odd: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """``odd`` alone, or sprinkled between the words of a normal sentence."""
    words = st.sampled_from(NORMAL_SENTENCES).map(str.split)

    def sprinkle(pair: tuple[list[str], list[str]]) -> str:
        sentence, odds = pair
        out = []
        for index, word in enumerate(sentence):
            out.append(word)
            if index < len(odds):
                out.append(odds[index])
        return " ".join(out) if len(odds) % 2 else "".join(out)

    return st.one_of(odd, st.tuples(words, st.lists(odd, min_size=1, max_size=4)).map(sprinkle))


empty = st.just("")
whitespace_only = st.text(st.sampled_from(WHITESPACE), min_size=1, max_size=40)
punctuation_only = st.text(st.one_of(st.characters(categories=["P"]), st.sampled_from(PUNCTUATION_EXTRA)),
                           min_size=1, max_size=MAX_SHORT)
emoji = _with_words(_joined(st.lists(st.sampled_from(EMOJI), min_size=1, max_size=6)))
control = _with_words(st.text(st.characters(categories=["Cc"]), min_size=1, max_size=8)) \
    | st.sampled_from(NORMAL_SENTENCES).map(lambda s: s.replace(" ", "\x00", 1)) | st.just("\x00")
ansi = _with_words(_joined(st.lists(st.sampled_from(ANSI), min_size=1, max_size=4)))
lone_surrogates = _with_words(st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=6))
scripts = st.sampled_from(SCRIPT_SAMPLES) | st.text(
    st.one_of(*(st.characters(min_codepoint=lo, max_codepoint=hi) for lo, hi in SCRIPT_RANGES)), min_size=1,
    max_size=MAX_SHORT)
numbers = _joined(st.lists(
    st.sampled_from(NUMBER_SAMPLES) | st.integers(-10**12, 10**12).map(str)
    | st.floats(allow_nan=True, allow_infinity=True, width=32).map(repr),
    min_size=1, max_size=3), (" ", ", ", "\n", " and "))
markup = _with_words(st.sampled_from(MARKUP)) | _joined(st.lists(st.sampled_from(MARKUP), min_size=2, max_size=4),
                                                       ("", " ", "\n"))


@st.composite
def long_texts(draw, min_chars: int = LONG_MIN_CHARS, max_chars: int = LONG_MAX_CHARS,
               speakable: int = LONG_SPEAKABLE_BUDGET) -> str:
    """Several thousand characters without sentence punctuation: a few words spread over whitespace or unspeakable
    filler. With a filler that is no whitespace the splitter must cut hard at the chunk limit."""
    size = draw(st.integers(min_chars, max_chars))
    words = draw(st.lists(st.text(string.ascii_lowercase, min_size=1, max_size=10), min_size=1, max_size=30))
    kept, letters = [], 0
    for word in words:
        if letters + len(word) > speakable:
            break
        kept.append(word)
        letters += len(word)
    kept = kept or ["word"]
    filler = draw(st.sampled_from([" ", "\t", "\u3000", "_", "-", " \u200b", "\u00a0"]))
    if len(kept) == 1:
        text = kept[0] + filler * ((size - letters) // len(filler))
    else:
        gap = max(1, (size - letters) // (len(kept) - 1) // len(filler))
        text = (filler * gap).join(kept)
    # Integer division leaves the text a few characters short of ``size``: top it up so it is at least that long.
    shortfall = size - len(text)
    return text + filler * -(-shortfall // len(filler)) if shortfall > 0 else text


long_text = long_texts()
normal = st.sampled_from(NORMAL_SENTENCES)

CATEGORIES: dict[str, st.SearchStrategy[str]] = {
    "empty": empty,
    "whitespace": whitespace_only,
    "punctuation": punctuation_only,
    "emoji": emoji,
    "control": control,
    "ansi": ansi,
    "lone_surrogates": lone_surrogates,
    "scripts": scripts,
    "long": long_text,
    "numbers": numbers,
    "markup": markup,
}
_SHORT_ODD = [strategy for name, strategy in CATEGORIES.items() if name != "long"]
CATEGORIES["mixed"] = _joined(
    st.lists(st.one_of(normal, *_SHORT_ODD), min_size=2, max_size=4),
    (" ", "\n", "\n\n", ""))


def fuzz_texts() -> st.SearchStrategy[str]:
    """Any of the categories, normal sentences among them."""
    return st.one_of(*CATEGORIES.values())
