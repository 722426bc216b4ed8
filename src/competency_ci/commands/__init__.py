"""Orchestration: one function per command, below ``cli/`` (which only parses) and above everything else.

A command's function takes its options as a dataclass, runs the flow (configuration, validated
frameworks, every setting checked before the first request, then the target or service), prints
its report and returns the exit code: 0 done, 1 problems found, 2 unusable input or configuration,
3 a remote service failed. It lives here, not in ``targets/``, because a command crosses layers a
target must not know: approval after publish, the embedded sandbox, the validator's report.
"""
