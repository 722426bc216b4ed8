"""Talking to CASS (Competency and Skills System): KBAC signing, ids, mapping, the HTTP client.

Everything here follows `shared/reference/cass-api.md`; section numbers in comments point into it.
"""
