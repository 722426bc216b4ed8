"""`competency-ci template`: write a blank framework CSV to stdout or a file."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from competency_ci.frameworks.template import TEMPLATE_TIERS, template_text
from competency_ci.schema import load_schema


@dataclass(frozen=True)
class TemplateOptions:
    tier: str = "required-if-available"
    with_sample: bool = False
    with_instructions: bool = False
    output: str | None = None
    force: bool = False
    collection: bool = False


def template(options: TemplateOptions) -> int:
    text = template_text(
        load_schema(),
        options.tier,
        sample=options.with_sample,
        instructions=options.with_instructions,
        collection=options.collection,
    )
    if options.output is None:
        sys.stdout.write(text)
        return 0
    path = Path(options.output)
    if path.exists() and not options.force:
        print(f"competency-ci template: {path} exists; use --force to overwrite it", file=sys.stderr)
        return 2
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        print(f"competency-ci template: cannot write {path}: {exc.strerror}", file=sys.stderr)
        return 2
    kind = "collection " if options.collection else ""
    print(f"wrote {path} ({options.tier} {kind}columns)", file=sys.stderr)
    return 0


__all__ = ["TEMPLATE_TIERS", "TemplateOptions", "template"]
