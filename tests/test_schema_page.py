"""The schema reference page lists the columns by tier exactly as the descriptor says."""

from __future__ import annotations

from competency_ci.schema import TIERS, load_schema
from competency_ci.schema.reference import columns_by_tier
from conftest import REPO

PAGE = REPO / "docs" / "pages" / "reference" / "schema.md"


def test_the_page_is_current() -> None:
    text = PAGE.read_text("utf-8")
    start = text.index("<!-- columns:start -->\n") + len("<!-- columns:start -->\n")
    assert text[start : text.index("<!-- columns:end -->")] == columns_by_tier(), (
        "regenerate with: python -m competency_ci.schema.reference"
    )


def test_every_column_is_listed_once_under_its_tier() -> None:
    table = columns_by_tier()
    sections = table.split("### ")[1:]
    assert len(sections) == len(TIERS)
    for tier, section in zip(TIERS, sections, strict=True):
        names = [line.split("`")[1] for line in section.splitlines() if line.startswith("| `")]
        assert names == [c.name for c in load_schema().columns.values() if c.tier == tier]
