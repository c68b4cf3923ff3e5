"""Text as the portal published it: HTML stripped, entities decoded, NFC, whitespace folded."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable

import lxml.html

# Portal boilerplate that is not content: whole sentences removed wherever they stand, link
# labels removed at the end of a text, and labels that are boilerplate only as the whole text.
BOILERPLATE_SENTENCES = ("To view this content please go to and install the flash plugin.",)
TRAILING_LABELS = ("Read more", "Read more...", "Read more »", "More »", "Lire la suite", "En savoir plus")
WHOLE_LABELS = ("Follow me online", "Go to", "More", "Print", "Share", "Top of page", "Haut de page")
_SENTENCE_RE = re.compile("|".join(re.escape(b) for b in BOILERPLATE_SENTENCES), re.IGNORECASE)
_TRAILING_RE = re.compile(
    r"(?:^|\s)(?:" + "|".join(re.escape(b) for b in sorted(TRAILING_LABELS, key=len, reverse=True)) + r")\s*$",
    re.IGNORECASE,
)
_WHOLE = {label.lower() for label in (*WHOLE_LABELS, *TRAILING_LABELS)}
# Cheap tests before the regular expressions: most texts have no boilerplate at all.
_SENTENCE_HINT = "flash plugin"
_TRAILING_ENDS = tuple({label.lower().split()[-1] for label in TRAILING_LABELS} | {"»"})
# Markup, not text written with angle brackets ("<The Palace>", "a <b> c"): a known HTML tag's name.
_TAG_HINT_RE = re.compile(
    r"<(?:!--|/?(?:a|abbr|b|blockquote|br|cite|code|dd|del|div|dl|dt|em|figcaption|figure|font|h[1-6]|hr|i|iframe"
    r"|img|ins|li|ol|p|pre|q|s|script|small|span|strong|style|sub|sup|table|tbody|td|th|thead|tr|u|ul)(?=[\s/>]))",
    re.IGNORECASE)
# Zero-width and soft-hyphen characters carry no text.
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# Terminal escape sequences (`\x1b[31m`) and every other C0 and C1 control character but tab and
# newline: never text, and some of them make a terminal or a parser misbehave.
_CONTROL_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """`text` without terminal escape sequences and control characters (tab and newline kept)."""
    return _CONTROL_RE.sub("", text) if _CONTROL_RE.search(text) else text


def fold(text: str) -> str:
    """Collapse every run of whitespace (non-breaking spaces included) to one space, and strip;
    control characters and zero-width characters go."""
    if text.isprintable():  # its only whitespace is the space, and it has no invisible characters
        if "  " not in text and text[:1] != " " and text[-1:] != " ":
            return text  # folded already (most texts by the time they are cleaned again)
        return " ".join(text.split())
    folded = " ".join(text.split())  # whitespace first: newlines and tabs are not "printable"
    if folded.isprintable():
        return folded  # (no invisible character either: they are not printable, nor whitespace)
    if not text.isascii() and _INVISIBLE_RE.search(text):
        folded = " ".join(_INVISIBLE_RE.sub("", text).split())
    return folded if folded.isprintable() else " ".join(strip_controls(folded).split())


def strip_html(text: str) -> str:
    """The text of an HTML fragment (scripts and styles dropped; the fragment's entities decoded, as
    a parser decodes them: once). Text without markup is returned as it is."""
    if not _TAG_HINT_RE.search(text):
        return text
    root = lxml.html.fragment_fromstring(text, create_parent="div")
    for bad in root.iter("script", "style", "noscript", "template"):
        bad.drop_tree()
    # Block elements and <br> separate words even without whitespace between them.
    for el in root.iter("br", "p", "div", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "tr"):
        el.tail = " " + (el.tail or "")
        if el.tag != "br":
            el.text = " " + (el.text or "")
    return str(root.text_content())


def clean_text(text: str | None) -> str:
    """One line of text as a page shows it: markup stripped, Unicode NFC, whitespace folded.

    The text is taken as published, that is as a parser gave it: its entities are already decoded,
    and a headline that shows "&#163;1.8m" says so (its source was `&amp;#163;1.8m`), so entities
    are never decoded a second time. Curly quotes, accents and doubled apostrophes are kept.
    For a string of HTML source (a JSON-LD value, a feed's description), see `clean_markup`.
    """
    if not text:
        return ""
    printable = text.isprintable()
    if not printable:
        text = strip_controls(text)  # before lxml, which refuses them
    if "<" in text:
        text, printable = strip_html(text), False
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text, printable = unicodedata.normalize("NFC", text), False
    if printable and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text  # folded already (as fold() says of it, without reading it for controls again)
    return fold(text)


def clean_markup(source: str | None) -> str:
    """`clean_text` of a string of HTML source that no parser has read: a JSON-LD value, an RSS
    description. Its entities are decoded once (`Tom &amp; Jerry`, markup escaped as `&lt;b&gt;`)."""
    if not source:
        return ""
    return clean_text(html.unescape(source) if "&" in source else source)


def drop_boilerplate(text: str) -> str:
    """Remove portal boilerplate: the flash-plugin notice, a trailing "Read more", a lone "Go to".
    (Once per text of a paragraph's length: the body's paragraphs, read for the article, are read
    again when the record is normalized, most of them unchanged.)"""
    if len(text) > _DROPPED_LENGTH:
        return _drop_boilerplate(text)
    found = _DROPPED.get(text)
    if found is None:
        found = _drop_boilerplate(text)
        if len(_DROPPED) >= 1024:
            _DROPPED.clear()
        _DROPPED[text] = found
    return found


_DROPPED: dict[str, str] = {}
_DROPPED_LENGTH = 2000  # (at most a thousand texts kept, two thousand characters each)


def _drop_boilerplate(text: str) -> str:
    lowered_tail = text[-24:].lower()
    sentences = labels = 0
    if _SENTENCE_HINT in text.lower():
        text, sentences = _SENTENCE_RE.subn(" ", text)
    if lowered_tail.endswith(_TRAILING_ENDS):
        text, labels = _TRAILING_RE.subn("", text)
    if sentences or labels:
        text = fold(text)
    return "" if len(text) <= 20 and text.lower() in _WHOLE else text


def clean_paragraphs(paragraphs: Iterable[str]) -> str:
    """Paragraphs cleaned one by one, boilerplate and empty ones dropped, joined by blank lines."""
    kept = (drop_boilerplate(clean_text(p)) for p in paragraphs)
    return "\n\n".join(p for p in kept if p)


class ClassWords:
    """Whether a class or id string matches a case-insensitive pattern of words, judged once per
    distinct string (pages repeat the same few thousands of times; at most 100,000 kept). An ASCII
    string is lower-cased and searched with a case-sensitive copy of the all-lower-case pattern: the
    regex engine skips ahead on literal branches only when it need not fold case."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern, self.lower = pattern, re.compile(pattern.pattern)
        self.judged: dict[str, bool] = {}

    def __call__(self, words: str) -> bool:
        found = self.judged.get(words)
        if found is None:
            found = (self.lower.search(words.lower()) if words.isascii() else self.pattern.search(words)) is not None
            if len(self.judged) < 100_000:
                self.judged[words] = found
        return found
