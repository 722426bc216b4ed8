"""`competency-ci validate PATH...`: check framework CSVs cell by cell."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from competency_ci.commands.common import default_format
from competency_ci.frameworks.config import load_config
from competency_ci.frameworks.problems import Level
from competency_ci.frameworks.validate import validate_paths
from competency_ci.report.problems import REPORTERS, View


@dataclass(frozen=True)
class ValidateOptions:
    """What `competency-ci validate` was asked to do (the parsed command line)."""

    paths: list[str] = field(default_factory=list)
    config: str | None = None
    format: str | None = None
    strict: bool = False
    min_level: str | None = None
    quiet: bool = False


def validate(options: ValidateOptions) -> int:
    config = load_config(options.config)
    result = validate_paths(list(options.paths), config)
    for path, reason in result.unusable.items():
        print(f"competency-ci validate: {path}: {reason}", file=sys.stderr)
    view = View(min_level=Level(options.min_level or Level.NOTICE), quiet=options.quiet)
    sys.stdout.write(REPORTERS[options.format or default_format()](result, view))
    return result.exit_code(options.strict)
