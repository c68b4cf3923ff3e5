"""Text cleaning: as published, Unicode intact, HTML and boilerplate gone."""

from __future__ import annotations

import pytest

from portalscraper.extract.text import clean_markup, clean_paragraphs, clean_text, drop_boilerplate, fold


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  NATO’s   partner\n countries ", "NATO’s partner countries"),
        ("Václav Havel: remembering the big little man", "Václav Havel: remembering the big little man"),
        ("Cafe\u0301 Sk\u00e5re", "Café Skåre"),  # NFC
        ("People & Activities", "People & Activities"),
        # text as a parser gave it: a headline that shows "&#163;1.8m" (source `&amp;#163;1.8m`) says so
        ("Fund raises &#163;1.8m &amp; more", "Fund raises &#163;1.8m &amp; more"),
        ("Talks on <b>security</b>", "Talks on security"),
        ("a <The Palace: Tale of Jang Noksu> review", "a <The Palace: Tale of Jang Noksu> review"),
        ("<p>One <b>bold</b> word</p><script>alert(1)</script>", "One bold word"),
        ("a<br>b<p>c</p>", "a b c"),
        ("''NATO 2020''", "''NATO 2020''"),
        ("non\u00a0breaking\u200bspace", "non breakingspace"),
        ("", ""),
        (None, ""),
    ],
)
def test_clean_text(raw: str | None, clean: str) -> None:
    assert clean_text(raw) == clean


@pytest.mark.parametrize(
    ("source", "clean"),
    [
        ("People &amp; Activities", "People & Activities"),
        ("&ldquo;New&rdquo; terrorism", "“New” terrorism"),
        ("A &lt;i&gt;headline&lt;/i&gt;", "A headline"),  # markup escaped once in a JSON-LD string
        ("Fund raises &amp;#163;1.8m", "Fund raises &#163;1.8m"),  # decoded once, never twice
        ("<p>Tom &amp; Jerry</p>", "Tom & Jerry"),
    ],
)
def test_clean_markup_decodes_html_source_once(source: str, clean: str) -> None:
    assert clean_markup(source) == clean


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("To view this content please go to and install the flash plugin.", ""),
        ("Go to", ""),
        ("Follow me online", ""),
        ("Soldiers improved an outpost. Read more", "Soldiers improved an outpost."),
        ("They will go to Brussels to read more reports.", "They will go to Brussels to read more reports."),
    ],
)
def test_drop_boilerplate(raw: str, kept: str) -> None:
    assert drop_boilerplate(raw) == kept


def test_clean_paragraphs_keeps_paragraph_breaks() -> None:
    assert clean_paragraphs(["<p>First  one.</p>", "Go to", " ", "Second\none."]) == "First one.\n\nSecond one."


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("already folded", "already folded"),
        ("two  spaces", "two spaces"),
        (" leading", "leading"),
        ("trailing ", "trailing"),
        ("non\u00a0breaking", "non breaking"),
        ("zero\u200bwidth", "zerowidth"),
        ("tab\tand\nline", "tab and line"),
        ("", ""),
    ],
)
def test_fold(raw: str, folded: str) -> None:
    assert fold(raw) == folded
