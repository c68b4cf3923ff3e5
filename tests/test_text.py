"""Text cleaning: as published, Unicode intact, HTML and boilerplate gone."""

from __future__ import annotations

import pytest

from portalscraper.extract.text import clean_paragraphs, clean_text, drop_boilerplate


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  NATO’s   partner\n countries ", "NATO’s partner countries"),
        ("Václav Havel: remembering the big little man", "Václav Havel: remembering the big little man"),
        ("Cafe\u0301 Sk\u00e5re", "Café Skåre"),  # NFC
        ("People &amp; Activities", "People & Activities"),
        ("&ldquo;New&rdquo; terrorism", "“New” terrorism"),
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
