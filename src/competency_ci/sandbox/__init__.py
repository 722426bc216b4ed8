"""A local CASS-compatible server (standard-library HTTP server + SQLite) for trying and testing
publishing without an account. Every behaviour follows ``shared/reference/cass-api.md``."""

from competency_ci.sandbox.server import RequestRecord, SandboxServer, start_embedded

__all__ = ["RequestRecord", "SandboxServer", "start_embedded"]
