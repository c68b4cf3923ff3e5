"""A page's running text as a browser renders it, and the part of it that is the article's body.

Rendering: inline elements join with no added space (`<a>Ukraine</a>.` reads "Ukraine.", a drop
cap `<span>D</span>as` reads "Das"), block elements and `<br><br>` end a paragraph. The walk is
lxml's iterative one: no recursion, whatever the page's depth.

The body: every rendered paragraph of running text (long enough, few links, not inside a comments
box, a cookie notice, navigation, a caption or an aside) credits the block it stands in and that
block's ancestors; the best block wins, and grows to its parent while the parent's other children
hold more running text (articles split into several blocks between ads, "read also" boxes and
captions). Every paragraph inside the winner is kept, but navigation-like link lists.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate

from lxml import etree
from lxml.etree import _Element

from portalscraper.extract.lexicon import alternation
from portalscraper.extract.text import ClassWords, clean_text, drop_boilerplate, fold
from portalscraper.extract.vocabulary import BLOCK_TAGS, OFF_TAGS, SKIP_TAGS

# Menus: never rendered at all (their text is navigation, and menus are large).
_SILENT_TAGS = frozenset({"nav", "menu"})
_NEVER_RENDERED = SKIP_TAGS | _SILENT_TAGS
_OFF_WORDS = re.compile(
    r"comment(?!ary|s?-(?:open|closed))|cookie|consent|gdpr|^cmp|banner|newsletter|signup|related"
    r"|recommend|read-?(?:also|more|next)|more-?(?:stories|articles|news|from)|share|sharing|social"
    r"|(?<!with-)(?<!has-)(?<!no-)sidebar(?!-(?:left|right|layout))|^widget(?:$|_)|promo|advert|^ads?(?:$|[_-])|[_-]ads?$"
    r"|sponsor|breadcrumb|menu|^nav|[_-]nav|footer|masthead|caption|credit|byline|author-?(?:bio|info|box)"
    r"|^tags?$|toolbar|modal|popup|outbrain|taboola|video-?(?:info|meta|details|data)|player(?![-_]\d+(?:[-_]\d+)*$)"
    r"|skip-?link|most-?(?:read|popular|viewed)|trending|pagination|pager|disqus|rating|login|^hidden$|sr-only"
    r"|visually-?hidden|screen-?reader|(?:gallery|slideshow|carousel)(?![-_]?(?:body|content|text|article|post))"
    r"|latest-?(?:news|stories|posts|articles|videos)",
    re.IGNORECASE,
)
# The same, case-sensitive, for an ASCII word lower-cased: the pattern is all lower case, and the
# engine skips ahead on literal branches only when it need not fold case (three times faster).
_OFF_WORDS_LOWER = re.compile(_OFF_WORDS.pattern)
# A class or id that says "the content is here", beside one that says "off", keeps the element.
_ON_WORDS = re.compile(r"article|content|entry|^post|story|^main|body|prose|rich-?text|^text", re.IGNORECASE)
_ON_WORDS_LOWER = re.compile(_ON_WORDS.pattern)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_COOKIE_TEXT = re.compile(r"cookie", re.IGNORECASE)
_CONSENT_TEXT = re.compile(r"consent|accept|agree|privacy|einwillig|zustimm|akzeptier|accepte|acept|accett"
                           r"|datenschutz|confidentialit", re.IGNORECASE)
# Labels standing alone between paragraphs that are not the article's text.
_AD_LABELS = frozenset({"advertisement", "anzeige", "werbung", "publicité", "publicidad", "pubblicità", "reklam",
                        "reklama", "advertentie", "annonce", "sponsored", "ad", "publicidade", "mainos"})
_SENTENCE_END = tuple(".!?…:;\"'”’»)")

MIN_RUNNING = 25  # characters: shorter paragraphs are labels, not running text
MAX_LINK_SHARE = 0.34


@dataclass(slots=True)
class Paragraph:
    """One rendered paragraph: its text, the block it stands in, how much of it is link text, and
    whether it stands inside something that is not the article (navigation, comments, ...)."""

    text: str
    block: _Element
    links: int
    off: bool
    offs: tuple[_Element, ...] = ()  # the "off" blocks it stands in, outermost first
    at: int = 0  # the walk's event at which its first text came (`Layout.order` counts the same events)
    running: bool = False  # running text: set once the page is rendered (see `prose`)

    def prose(self) -> bool:
        """Running text: long enough, few links, not somewhere that is not the article."""
        n = len(self.text)
        return not self.off and n >= MIN_RUNNING and self.links <= n * MAX_LINK_SHARE and not (
            n < 600 and _cookies(self.text) and _CONSENT_TEXT.search(self.text) is not None)


def _cookies(text: str) -> bool:
    """A text that speaks of cookies (ASCII lower-cased and searched as a string: a pattern that
    ignores case is searched character by character)."""
    return "cookie" in text.lower() if text.isascii() else _COOKIE_TEXT.search(text) is not None


def is_off(el: _Element) -> bool:
    """Whether a block is not the article's: navigation, asides, captions, hidden, or classed as a
    comments box, a cookie notice, a share bar, related links... (one class word saying so, and no
    other saying "content": `post comments-open` is an article, `article-comments` is not)."""
    tag = el.tag
    if tag in OFF_TAGS:
        return True
    klass = ident = None
    for name, value in el.items():  # one call for the few attributes a block has, not one per name
        if name == "class":
            klass = value
        elif name == "id":
            ident = value
        elif name == "style":
            if _HIDDEN_STYLE.search(value):
                return True
        elif name == "hidden" or (name == "aria-hidden" and value == "true"):
            return True
    if tag in ("body", "html", "article", "main"):
        return False
    if "-" in tag and _off_words(tag):  # amp-sidebar, amp-ad, amp-social-share
        return True
    if not klass and not ident:
        return False
    return _off_words(f"{klass or ''} {ident or ''}")


# Blocks that are never the article, however much of the page they hold (a thread of comments can
# be longer than its article). Other "off" blocks that hold most of the page's text are wrappers
# named by their layout ("content-with-sidebar", Blogger's "widget Blog", a page-wide drawer, a
# page hidden while a dialog is open): the article stands in them.
_NEVER_MAIN = re.compile(r"comment|disqus|cookie|consent|gdpr|related|recommend|outbrain|taboola|read-?(?:also|next)"
                         r"|more-?(?:stories|articles|news|from)|most-?(?:read|popular|viewed)|trending|gallery"
                         r"|slideshow|carousel|latest-?(?:news|stories|posts|articles|videos)", re.IGNORECASE)
_NEVER_MAIN_TAGS = frozenset({"figure", "figcaption", "dialog"})
WRAPPER_SHARE = 0.5


def never_main(el: _Element) -> bool:
    """An "off" block that stays off even when it holds most of the page's text."""
    return el.tag in _NEVER_MAIN_TAGS or bool(_NEVER_MAIN.search(f"{el.get('class', '')} {el.get('id', '')}"))


_OFF_CACHE: dict[str, bool] = {}
# Class words that say what state a block is in, not what it is: `no_caption`, `has-sidebar`.
_NEGATED = re.compile(r"(?:no|not|has|with|without|is|show|hide)[-_]", re.IGNORECASE)
_NEGATED_LOWER = re.compile(_NEGATED.pattern)
# Inline boxes shown only on hover or click: a person's card beside a linked name, a footnote's tooltip.
_HOVER = re.compile(r"tooltip|popover|rollover|hover-?card|popup", re.IGNORECASE)
_hover_class = ClassWords(_HOVER)


def _hover_box(el: _Element) -> bool:
    """An inline element classed as a hover box, and the innermost one (the trigger around it stays)."""
    return _hover_class(el.get("class") or "") and not any(
        isinstance(d.tag, str) and _hover_class(d.get("class") or "") for d in el.iterdescendants())


def _off_words(words: str) -> bool:
    """Whether class and id words say "not the article" (see `is_off`), once per distinct spelling:
    pages repeat the same few class strings thousands of times."""
    found = _OFF_CACHE.get(words)
    if found is None:
        # (no word holds a stem (`_maybe_off`): most class strings, judged in one search)
        found = _any_stem(words) and _judged(words.split())
        if len(_OFF_CACHE) < 100_000:
            _OFF_CACHE[words] = found
    return found


_OFF, _ON = 1, 2
_WORD_CACHE: dict[str, int] = {}


def _judged(words: list[str]) -> bool:
    """One word at least says "off", and none of the others says "content"; each word judged once
    (a site spells its class strings from the same words, in many combinations)."""
    codes = 0
    for word in words:
        code = _WORD_CACHE.get(word)
        if code is None:
            code = _word_code(word)
            if len(_WORD_CACHE) < 100_000:
                _WORD_CACHE[word] = code
        codes |= code
    return codes == _OFF


def _word_code(word: str) -> int:
    """What one class word says: "off" (`_OFF`), "content" (`_ON`), or nothing. A word that says
    what state a block is in (`no_caption`) says nothing, and a BEM modifier (`Layout--sidebar-end`)
    says how a block is placed, not what it is: only the part before `--` counts."""
    name = word.split("--", 1)[0]
    negated, on = _NEGATED, _ON_WORDS
    if name.isascii():  # lower-cased, against the lower-case patterns (see _OFF_WORDS_LOWER)
        name, negated, on = name.lower(), _NEGATED_LOWER, _ON_WORDS_LOWER
    if negated.match(name):
        return 0
    if name and _word_off(name):
        return _OFF
    return _ON if on.search(name) else 0


# Substrings that every match of _OFF_WORDS contains: most class words hold none of them, and
# testing these is a hundred times cheaper than the pattern (pages of generated class names).
_OFF_STEMS = ("comment", "cookie", "consent", "gdpr", "cmp", "banner", "newsletter", "signup", "related", "recommend",
              "read", "more", "shar", "social", "sidebar", "widget", "promo", "advert", "-ad", "_ad", "sponsor",
              "breadcrumb", "menu", "nav", "footer", "masthead", "caption", "credit", "byline", "author", "tag",
              "toolbar", "modal", "popup", "outbrain", "taboola", "video", "player", "skip", "most", "trending", "pag",
              "disqus", "rating", "login", "hidden", "sr-only", "visually", "screen", "galler", "slideshow",
              "carousel", "latest")


# As a trie whose every branch starts with a letter: the search skips to the letters that start one.
_STEM_RE = re.compile(alternation(_OFF_STEMS))


def _maybe_off(word: str) -> bool:
    """A stem in the word, or the word starts with "ad"."""
    lowered = word.lower()
    return lowered.startswith("ad") or _STEM_RE.search(lowered) is not None


def _any_stem(words: str) -> bool:
    """`_maybe_off` for any word of a class string, in one search."""
    lowered = words.lower()
    return _STEM_RE.search(lowered) is not None or (
        "ad" in lowered and any(word.startswith("ad") for word in lowered.split()))


def _word_off(word: str) -> bool:
    """Whether one class word says "off"."""
    return _maybe_off(word) and (_OFF_WORDS_LOWER.search(word.lower()) if word.isascii()
                                 else _OFF_WORDS.search(word)) is not None


def _custom_block(el: _Element, found: set[_Element]) -> bool:
    """A custom element that holds blocks (article-body, amp-carousel), or a paragraph's worth of text
    outside a paragraph (story-paragraph), lays out as a block, as sites style them; a short one (a
    citation's hl-trusted-source) is inline, as browsers show an element they do not know."""
    if any(isinstance(c.tag, str) and (c.tag in BLOCK_TAGS or "-" in c.tag) for c in el.iterdescendants()) or (
            len(el.text_content()) >= 80 and not any(a.tag == "p" for a in el.iterancestors())):
        found.add(el)
        return True
    return False


_HIDING = frozenset({"style", "hidden", "aria-hidden"})


def _hidden_inline(el: _Element, tag: str, names: list[str]) -> bool:
    """An inline element that is hidden, off, or a hover box: never rendered. (`names`: its attributes'
    names, read in one call (most inline elements have none of these, and links' values are long), and
    not called for one that has none.)"""
    if not _HIDING.isdisjoint(names) and (
            el.get("style") or el.get("hidden") is not None or el.get("aria-hidden") == "true") and is_off(el):
        return True
    return tag != "a" and "class" in names and bool(el.get("class")) and _hover_box(el)


class _Blocks:
    """The walk's open blocks, innermost last, the "off" ones among them, and the paragraphs they
    get from the text buffered in `buf`. A block is judged "off" or not when a paragraph first
    stands in it (a third of a page's blocks hold no text: wrappers of images, empty boxes)."""

    __slots__ = ("buf", "custom", "flags", "judged", "offs", "open", "paragraphs", "skipped")

    def __init__(self, root: _Element, paragraphs: list[Paragraph]) -> None:
        self.open, self.paragraphs = [root], paragraphs
        self.buf: list[str] = []
        self.judged = 1  # the open blocks judged (the outermost ones; the root never is)
        self.offs: list[_Element] = []  # the "off" blocks among them
        self.flags: list[bool] = []  # per judged block but the root: whether it is in `offs`
        self.custom: set[_Element] = set()  # custom elements that lay out as blocks
        self.skipped: set[_Element] = set()  # inline elements not rendered (blocks: the silent tags)

    def flush(self, links: int, first: int) -> tuple[int, int]:
        """The buffered text as a paragraph of the innermost block (`links` characters of it in
        links, its first text at the walk's event `first`); the count of both starts again."""
        text = fold("".join(self.buf))
        if text:
            if self.judged < len(self.open):
                self._judge()
            offs = self.offs
            self.paragraphs.append(Paragraph(text, self.open[-1], links, bool(offs), tuple(offs), first))
        self.buf.clear()
        return 0, -1

    def _judge(self) -> None:
        """The blocks opened since the last paragraph, judged."""
        for el in self.open[self.judged:]:
            off = is_off(el)
            self.flags.append(off)
            if off:
                self.offs.append(el)
        self.judged = len(self.open)

    def leave(self, links: int, first: int) -> tuple[int, int]:
        """The innermost block closed: the text buffered in it is its paragraph."""
        if self.buf:
            links, first = self.flush(links, first)
        if self.judged == len(self.open):
            self.judged -= 1
            if self.flags.pop():
                self.offs.pop()
        self.open.pop()
        return links, first


# Blocks the walk opens (menus are skipped whole).
_OPENED = BLOCK_TAGS - _SILENT_TAGS


def _render(root: _Element, paragraphs: list[Paragraph], order: dict[_Element, tuple[int, int, int]]) -> None:
    """lxml's iterative walk; inline elements and text with local state (a call per event costs a third)."""
    blocks = _Blocks(root, paragraphs)
    buf, append, skipped, custom, opened = blocks.buf, blocks.buf.append, blocks.skipped, blocks.custom, blocks.open
    push, pop = (starts := list[int]()).append, starts.pop  # the open elements' first events (each ends)
    links, in_link, brs, n, events, first = 0, 0, 0, 0, 0, -1  # first: the buffered text's first event
    for event, el in (walker := etree.iterwalk(root, events=("start", "end"))):
        events += 1
        tag = el.tag
        if event == "start":
            push(n := n + 1)
            if tag in BLOCK_TAGS:
                if buf:
                    links, first = blocks.flush(links, first)
                if tag in _SILENT_TAGS:
                    walker.skip_subtree()  # menus: never rendered
                    continue
                opened.append(el)
            elif tag in SKIP_TAGS or ((names := el.keys()) and _hidden_inline(el, tag, names)):
                walker.skip_subtree()  # never shown, or never the article: code, controls, hidden boxes
                skipped.add(el)
                continue
            elif tag == "br":  # a new line; two in a row end the paragraph
                append("\n")
                if (brs := brs + 1) >= 2:
                    links, first = blocks.flush(links, first)
                continue
            elif "-" in tag and _custom_block(el, custom):
                if buf:
                    links, first = blocks.flush(links, first)
                opened.append(el)
            elif tag == "a":
                in_link += 1
            text = el.text
        else:
            order[el] = (pop(), n, events)
            if tag in _OPENED or ("-" in tag and el in custom):
                links, first = blocks.leave(links, first)
            elif tag == "a" and el not in skipped:
                in_link -= 1
            text = el.tail
        if text and not text.isspace():
            first = events if first < 0 else first
            append(text)
            brs = 0
            if in_link:
                links += len(text.strip())
        elif text and buf:
            append(" ")
    blocks.flush(links, first)


class Layout:
    """The rendered paragraphs of a tree, with the document order of its elements."""

    def __init__(self, root: _Element, *, comments: bool = True) -> None:
        """`comments`: whether the tree may hold comments and processing instructions (removed first:
        their tails are text); a reader whose tree has none says so, and the tree is not walked for them."""
        self.paragraphs: list[Paragraph] = []
        # element: its first and last index in document order, and the walk's event at which it closes
        self.order: dict[_Element, tuple[int, int, int]] = {}
        if comments:
            etree.strip_tags(root, etree.Comment, etree.ProcessingInstruction)
        _render(root, self.paragraphs, self.order)
        self.wrappers = self._wrappers()
        for p in self.paragraphs:  # once the wrappers' paragraphs are back in the article
            p.running = p.prose()

    def _wrappers(self) -> set[_Element]:
        """"Off" blocks that hold most of the page's text, and are not comments or related stories:
        layout wrappers, whose paragraphs are not off on their account."""
        held: dict[_Element, int] = {}
        total = 0
        for p in self.paragraphs:
            weight = len(p.text) - p.links
            total += weight
            for el in p.offs:
                held[el] = held.get(el, 0) + weight
        wrappers = {el for el, n in held.items()
                    if n >= WRAPPER_SHARE * total and not never_main(el) and el.tag not in OFF_TAGS}
        if wrappers:
            for p in self.paragraphs:
                if p.offs and not wrappers.isdisjoint(p.offs):
                    p.offs = tuple(el for el in p.offs if el not in wrappers)
                    p.off = bool(p.offs)
        return wrappers

    def is_off(self, el: _Element) -> bool:
        """`is_off`, but for the page's layout wrappers."""
        return el not in self.wrappers and is_off(el)

    def inside(self, el: _Element, container: _Element) -> bool:
        first, last, _ = self.order[container]
        return first <= self.order[el][0] <= last

    def texts(self, container: _Element | None = None, *, keep_off: bool = False) -> list[str]:
        """The paragraphs inside `container` (the whole page by default), navigation-like link lists
        and, unless `keep_off`, text that is not the article's left out."""
        return [text for text, _ in self.entries(container, keep_off=keep_off)]

    def entries(self, container: _Element | None = None, *, keep_off: bool = False,
                start: int = 0) -> list[tuple[str, Paragraph]]:
        """`texts`, each with its paragraph; only those whose text comes after the walk's event
        `start` (the headline's end: see `Layout.order`)."""
        out = []
        for p in self.paragraphs:
            if container is not None and not self.inside(p.block, container):
                continue
            if start and p.at < start:
                continue  # (a paragraph whose first text is the headline's tail comes after it)
            if (p.off and not keep_off) or (p.links > len(p.text) / 2 and not _linked_prose(p)):
                continue
            text = drop_boilerplate(clean_text(p.text) if "<" in p.text else p.text)
            if text and not _ad_label(text):
                out.append((text, p))
        return out


def _ad_label(text: str) -> bool:
    """An ad's label standing alone ("Advertisement", "Anzeige:"); lower-cased only when short
    enough to be one (lower-casing never shortens a text, nor makes a dot or a colon)."""
    return (len(text) <= _AD_LABEL_LENGTH or text[-1] in ".:") and text.lower().rstrip(".:") in _AD_LABELS


_AD_LABEL_LENGTH = max(map(len, _AD_LABELS))


def _linked_prose(p: Paragraph) -> bool:
    """Sentences that happen to be mostly links (a deals post, a paragraph of named people): a long
    <p> that ends as a sentence ends, not a list of links."""
    n = len(p.text)
    return p.block.tag == "p" and n >= 150 and p.links <= 0.8 * n and p.text.endswith(_SENTENCE_END)


def render_paragraphs(el: _Element) -> list[str]:
    """The paragraphs of an element as a browser shows them (link lists and hidden text left out)."""
    return Layout(el).texts(keep_off=True)


# Share of a paragraph's running text credited to its block and the block's ancestors, nearest first.
_CREDIT = (1.0, 1.0, 0.75, 0.5, 0.5, 0.34)


class _Totals:
    """Per element, the running, all and link characters of the paragraphs inside it: sums over
    the paragraphs whose block starts within the element's span of the walk, from prefix sums (a
    walk from every paragraph up to the root costs as much as rendering the page)."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        order = layout.order
        rows = sorted([(order[p.block][0], n - p.links if p.running else 0, n, p.links)
                       for p in layout.paragraphs for n in (len(p.text),)])
        self.at = [row[0] for row in rows]
        # (each column summed on its own: one tuple a paragraph fewer)
        self.running = list(accumulate([row[1] for row in rows], initial=0))
        self.chars = list(accumulate([row[2] for row in rows], initial=0))
        self.links = list(accumulate([row[3] for row in rows], initial=0))
        self.cache: dict[_Element, tuple[int, int, int]] = {}

    def __getitem__(self, el: _Element) -> tuple[int, int, int]:
        found = self.cache.get(el)
        if found is None:
            span = self.layout.order.get(el)
            if span is None:
                found = (0, 0, 0)
            else:
                lo, hi = bisect_left(self.at, span[0]), bisect_right(self.at, span[1])
                found = (self.running[hi] - self.running[lo], self.chars[hi] - self.chars[lo],
                         self.links[hi] - self.links[lo])
            self.cache[el] = found
        return found


def _credit(layout: Layout) -> tuple[dict[_Element, float], _Totals]:
    """Running text credited to each paragraph's block and its nearest ancestors (`_CREDIT`);
    and, per element, the running and the link text of everything inside it."""
    score: dict[_Element, float] = {}
    depth_limit = len(_CREDIT)
    for p in layout.paragraphs:
        if not p.running:
            continue
        weight = len(p.text) - p.links
        el: _Element | None = p.block
        for depth in range(depth_limit):
            if el is None:
                break
            score[el] = score.get(el, 0.0) + weight * _CREDIT[depth]
            el = el.getparent()
    return score, _Totals(layout)


def main_block(layout: Layout, after: _Element | None = None) -> _Element | None:
    """The element that holds the article's running text, or None when the page has none.

    `after` is the headline's element when known: text standing wholly before the headline (a
    cookie notice, a teaser strip) counts half."""
    score, totals = _credit(layout)
    if not score:
        return None
    headline_at = layout.order[after][0] if after is not None and after in layout.order else 0
    # Running text between the headline and each point of the page: an article's body starts right
    # after its headline, comments and related stories further down.
    starts: list[int] = []
    before: list[int] = [0]
    for p in layout.paragraphs:
        at = layout.order[p.block][0]
        if p.running and at > headline_at:
            starts.append(at)
            before.append(before[-1] + len(p.text) - p.links)

    def value(el: _Element) -> float:
        s = score[el]
        t = totals[el]
        s *= 1 - min(t[2] / t[1], 0.9) if t[1] else 1  # link-heavy containers are navigation
        first, last, _ = layout.order[el]
        if headline_at and last < headline_at:
            s /= 2
        elif headline_at:
            between = before[bisect_left(starts, first)]
            s /= 1 + between / (t[0] + 1)
        return s

    # On a tie the container wins over the one paragraph it holds (its short paragraphs count too).
    best = max((el for el in score if el.tag not in ("html", "body")),
               key=lambda el: (value(el), -layout.order[el][0]), default=None)
    if best is None:
        return None
    return _grown(layout, best, totals, headline_at)


_PROSE_TAGS = frozenset({"p", "pre", "blockquote", "ul", "ol", "dl", "table", "h2", "h3", "h4", "h5", "h6"})


def _body_is_the_article(layout: Layout, body: _Element, node: _Element, best: _Element, totals: _Totals) -> bool:
    """A page whose article is the body itself (an RFC split into <pre> pages, a hand-written essay):
    the body's own prose elements beside `node` hold at least as much running text as the best block."""
    extra = sum(totals[c][0] for c in body if c is not node and c.tag in _PROSE_TAGS and c in layout.order
                and totals[c][2] < 0.25 * totals[c][1])
    return extra >= totals[best][0]


def _grown(layout: Layout, best: _Element, totals: _Totals, headline_at: int) -> _Element:
    """Grow while the parent's other children hold running text of their own (not link lists);
    wrappers that add nothing are passed through, and kept only if a level above them adds text."""
    node = best
    while True:
        parent = node.getparent()
        if parent is not None and parent.tag == "body":
            return parent if _body_is_the_article(layout, parent, node, best, totals) else best
        if parent is None or parent.tag in ("html", "body") or layout.is_off(parent):
            break
        extra = 0
        for child in parent:
            if child is node or child not in layout.order or layout.order[child][1] < headline_at:
                continue  # text wholly before the headline does not make the article bigger
            running, chars, links = totals[child]
            if running and links < 0.25 * chars:
                extra += running
        node = parent
        if extra >= max(MIN_RUNNING * 2, 0.05 * totals[best][0]):
            best = parent
        elif extra:
            break
    return best


def lead_paragraphs(layout: Layout, container: _Element, after: _Element | None) -> list[str]:
    """Prose between the headline `after` and the article's block `container`: a lead or standfirst
    set apart from the body (its own block, a link or two in it), part of the article's text."""
    if after is None or after not in layout.order or container not in layout.order:
        return []
    begins, ends = layout.order[after][2], layout.order[container][0]
    if layout.order[after][0] >= ends:
        return []  # the headline is inside the block, or after it
    out = []
    for p in layout.paragraphs:
        at = layout.order[p.block][0]
        if at >= ends:
            break
        n = len(p.text)
        if p.at > begins and not p.off and n >= 80 and p.links <= 0.5 * n and p.text.endswith(_SENTENCE_END) \
                and not _caption(p.text, p.block) and not _promo(p.text):
            out.append(p.text)
    return out[-2:]  # the nearest: a page's whole top is not the lead


def body_paragraphs(layout: Layout, container: _Element, skip: Iterable[str] = (),
                    after: _Element | None = None) -> list[str]:
    """The article's paragraphs inside `container`: leading lines that are not running text (bylines,
    date lines, kickers), the texts in `skip` (the headline, the date line) and, when the headline
    `after` stands inside the container with running text after it, what comes before it left out
    (by where each paragraph's text comes, not where its block starts: the text of a block that
    holds the headline may follow it). Promotions and captions are not the article's text either."""
    skipped = {fold(s) for s in skip if s}
    start = 0
    if (after is not None and after in layout.order and layout.inside(after, container)
            and not any(a.tag == "p" for a in (after, *after.iterancestors()))):  # bold words in a paragraph
        at = layout.order[after][2]
        if any(p.running and p.at > at and layout.inside(p.block, container) for p in layout.paragraphs):
            start = at
    out: list[str] = []
    for text, paragraph in layout.entries(container, start=start):
        if text in skipped or _promo(text) or _caption(text, paragraph.block):
            continue
        if not out and _leading_label(text, paragraph.block):
            continue
        out.append(text)
    return out


# Lines a site puts in its articles that are not the article: audio, newsletter and app promotions.
_PROMO = re.compile(
    r"^(?:listen to (?:this|the) (?:article|story)|get (?:our|the) (?:\w+ )?(?:e-?mail|newsletter)"
    r"|sign up (?:for|to) (?:our|the)\b.*newsletter|subscribe to (?:our|the)\b.*newsletter"
    r"|download (?:our|the)\b.*app\b"
    r"|follow us on\b|story continues below|this article is more than \w+ \w+ old"
    r"|hören sie (?:diesen|den) artikel|artikel (?:anhören|vorlesen)|abonnieren sie (?:unseren|den)\b.*newsletter"
    r"|écouter (?:cet|l')\s*article|inscrivez-vous à (?:notre|la) newsletter"
    r"|escuchar (?:este|el) artículo|suscríbete a (?:nuestro|la) (?:newsletter|boletín))",
    re.IGNORECASE)
_IMAGES = frozenset({"img", "picture", "video", "svg"})
# A photo's credit line: "(Image: GETTY)", "Photo: Jane Doe/Reuters", "(AP Photo/John Smith)": how it
# starts, or how it ends (matched on its last characters only, the longest end being 13).
_CREDIT_START = re.compile(r"\(?(?:images?|photos?|pictures?|fotos?|bild|credit|source|quelle)\s*:"
                           r"|\((?:AP|AFP|EPA|Reuters|Getty)\b[^)]*\)$", re.IGNORECASE)
_CREDIT_END = re.compile(r"(?:getty images|shutterstock|/ ?(?:AP|AFP|EPA|Reuters|dpa))\)?$", re.IGNORECASE)


def _credit_line(text: str) -> bool:
    return _CREDIT_START.match(text) is not None or _CREDIT_END.search(text, max(0, len(text) - 16)) is not None


def _promo(text: str) -> bool:
    return len(text) < 200 and _PROMO.match(text) is not None


def _caption(text: str, block: _Element) -> bool:
    """A photo's caption or credit: a credit line; a short text that shares a small block (not a
    paragraph with an image in it) with an image; or one that stands alone beside an image in their
    container."""
    if len(text) >= 250:
        return False
    if len(text) < 150 and _credit_line(text):
        return True
    if block.tag != "p" and len(block) and next(block.iterdescendants(*_IMAGES), None) is not None:
        return len(block.text_content()) < 300
    before, parent = block.getprevious(), block.getparent()
    if before is None or parent is None or len(parent) != 2 or not isinstance(before.tag, str):
        return False
    return before.tag in _IMAGES or (before.find(".//img") is not None and not before.text_content().strip())


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef]")
_CJK_END = tuple("。！？」』）】")
_BYLINE_START = re.compile(r"(?:by|von|par|por|di|door|av|af|with|avec|mit|con)\s", re.IGNORECASE)
_META_CLASS = re.compile(r"date|time|meta|byline|author|read|sub|dek|caption|credit|tag|label|kicker|info|source|view",
                         re.IGNORECASE)


def _leading_label(text: str, block: _Element) -> bool:
    """A line before the article's first paragraph that is not its text: a byline, a date line, a
    reading time, a kicker (short, no sentence end, not a plain paragraph or heading; CJK sentences
    are short and end with their own full stops)."""
    if len(text) >= 80 or text.endswith(_SENTENCE_END + _CJK_END):
        return False
    if _BYLINE_START.match(text):
        return True  # "by NATO Secretary General ...", "with the Chairman of ..."
    if len(text) >= 20 and 2 * len(_CJK.findall(text)) > len(text):
        return False
    return block.tag not in ("p", "h2", "h3", "h4", "h5", "h6") or bool(_META_CLASS.search(block.get("class") or ""))
