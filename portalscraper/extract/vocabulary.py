"""The HTML vocabulary of every reader in extract/: which elements are blocks, headings, code or
controls, and which places hold no text of the page. Each reader asks its own question, so its set
has its own members; they are spelled here, one beside the other, from the same parts."""

from __future__ import annotations

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# What no reader takes text from: code, and the document's head.
CODE_TAGS = frozenset({"script", "style", "noscript", "template", "head"})

# -- running text (body.py) -----------------------------------------------------------------
# Elements a browser lays out as blocks: text on either side of them is another paragraph.
BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "dialog", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", *HEADINGS,
    "header", "hgroup", "hr", "html", "legend", "li", "main", "menu", "nav", "ol", "p", "pre", "section",
    "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})
# Never text of the page: code, controls, embedded media, and what a browser does not show.
SKIP_TAGS = CODE_TAGS | frozenset({
    "audio", "button", "canvas", "embed", "iframe", "input", "map", "math", "object",
    "option", "select", "source", "svg", "textarea", "title", "video",
})
# Blocks whose text is not the article's, whatever it says.
OFF_TAGS = frozenset({"nav", "aside", "footer", "figure", "figcaption", "menu", "dialog"})

# -- headlines (headline.py, detail.py) -----------------------------------------------------
# Blocks that hold a line of their own: a headline candidate does not contain one.
HEADLINE_BLOCKS = frozenset({"p", "div", "li", "blockquote", "h2", "h3", "h4", "h5", "h6", "td", "section",
                             "article", "table", "tr", "ul", "ol", "dl", "dd", "dt", "pre", "header", "footer",
                             "aside", "nav", "form", "figure", "main", "center"})
# Where a page's headline never stands: code, menus, controls, embeds, the page's foot and side.
HEADLINE_HIDDEN = CODE_TAGS | frozenset({"nav", "select", "button", "iframe", "svg", "footer", "aside"})
# Where an item page's fields are never read from: code, menus, controls, forms, embeds.
NOT_CONTENT = CODE_TAGS | frozenset({"nav", "select", "button", "form", "iframe", "svg"})

# -- listing blocks (listing.py) ------------------------------------------------------------
# Elements that may stand as a heading of a listing block without being one.
PSEUDO_HEADINGS = frozenset({"strong", "b", "font", "span", "div", "p", "td", "th", "dt", "legend", "caption"})
# What a listing entry's text is never read from: code and a select's options.
LISTING_SKIP = CODE_TAGS | frozenset({"select", "option"})
