"""competency-ci: Credential Engine competency frameworks as code."""

__version__ = "0.1.0"
