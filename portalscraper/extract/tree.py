"""Pages parsed once, the same way everywhere: lxml's HTML parser as parsel sets it up, markup
repaired where libxml2 would cut the page short, scripts and styles removed (data islands set
aside).

The elements are lxml.html's `HtmlElement` (`text_content()` and the rest), found by a lookup in C:
lxml.html's own parser picks each element's class in Python (forms, inputs, labels...), a call
per element that cost a tenth of the extraction's time on pages of a real size.
"""

from __future__ import annotations

import gc
from types import TracebackType

import lxml.html
from lxml import etree
from lxml.etree import _Element
from parsel import Selector

from portalscraper.extract.listing import drop_scripts_finding, repair_markup

_LOOKUP = etree.ElementDefaultClassLookup(element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment,
                                          pi=lxml.html.HtmlProcessingInstruction, entity=lxml.html.HtmlEntity)


class PageText(str):
    """A page's text decoded from UTF-8, with the bytes it was decoded from (`utf8`): the parser
    reads those bytes, not the text encoded again (a tenth of a millisecond on a page of a real size)."""

    utf8: bytes

    @classmethod
    def decode(cls, body: bytes) -> PageText:
        """`body` decoded as UTF-8 (UnicodeDecodeError as `bytes.decode` raises it)."""
        text = cls(body, "utf-8")
        text.utf8 = body
        return text


def _stripped_utf8(text: str) -> bytes:
    """`text.strip()` as UTF-8 (lone surrogates kept): the bytes of a `PageText`, cut where the
    text is, when what is cut is ASCII whitespace (a byte a character)."""
    if isinstance(text, PageText):
        start, end = 0, len(text)
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if text[:start].isascii() and text[end:].isascii():
            return text.utf8[start:len(text.utf8) - (len(text) - end)] if start or end < len(text) else text.utf8
    return text.strip().encode("utf-8", "surrogatepass")


def parse_page(text: str, url: str | None = None, *, comments: bool = True) -> Selector:
    """A page's text as a parsed, cleaned tree, ready for the extractors; without its comments and
    processing instructions when `comments` is false (the parser leaves them out: the tree is the
    one `etree.strip_tags` would leave, their tails joined to the text before them)."""
    return Selector(root=parse_tree(text, url, comments=comments)[0], type="html")


def parse_tree(text: str, url: str | None = None, *, comments: bool = True,
               find: tuple[str, ...] = ()) -> tuple[_Element, list[_Element]]:
    """`parse_page`'s tree, and the elements of the tags in `find` that it holds, in document order
    (JSON-LD scripts when it names scripts), found while its scripts are dropped: a pass less over
    the page."""
    # (NUL bytes removed from the encoded page: ten times faster than from the text, the same bytes)
    body = _stripped_utf8(repair_markup(text)).replace(b"\x00", b"") or b"<html/>"
    parser = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True,  # one per page: not thread-safe
                              remove_comments=not comments, remove_pis=not comments,
                              collect_ids=False)  # (nothing looks elements up by id: a table less to fill)
    parser.set_element_class_lookup(_LOOKUP)
    root = etree.fromstring(body, parser=parser, base_url=url)
    if root is None:  # nothing a parser could read (only a comment, only whitespace)
        root = etree.fromstring(b"<html/>", parser=parser)
    return root, drop_scripts_finding(root, find)


class Uncollected:
    """A page read without Python's cyclic garbage collector: what the extraction allocates (the
    tree's proxies, the walk's tuples, paragraphs) makes no reference cycles and is freed by
    reference counts when the page is done, but its young objects, alive while the page is read,
    were traversed by every collection their allocations set off (a twentieth of the extraction's
    time, and none of it found garbage). Nested or in threads, the collector is turned back on by
    whoever found it on."""

    __slots__ = ("enabled",)

    def __enter__(self) -> None:
        self.enabled = gc.isenabled()
        if self.enabled:
            gc.disable()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.enabled:
            gc.enable()
