"""The sandbox reads form bodies the way busboy does for CASS (cass-api.md §1.1)."""

from __future__ import annotations

from competency_ci.sandbox.multipart import parse_form


def test_fields_and_file_parts_with_quoted_boundary() -> None:
    body = (
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="data"\r\n\r\n'
        b'[{"a":"line1\r\nline2"}]\r\n'
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="signatureSheet"; filename="s.json"\r\n'
        b"Content-Type: application/json\r\n\r\n"
        b"[]\r\n"
        b"--XyZ--\r\n"
    )
    assert parse_form('multipart/form-data; boundary="XyZ"', body) == {
        "data": b'[{"a":"line1\r\nline2"}]',
        "signatureSheet": b"[]",
    }
    # multipart/mixed is read as form-data; the last part of a repeated name wins
    twice = body.replace(b'name="signatureSheet"; filename="s.json"', b'name="data"')
    assert parse_form("multipart/mixed; boundary=XyZ", twice) == {"data": b"[]"}


def test_urlencoded_and_unknown_bodies() -> None:
    assert parse_form("application/x-www-form-urlencoded", b"data=%5B1%5D&signatureSheet=") == {
        "data": b"[1]",
        "signatureSheet": b"",
    }
    assert parse_form("multipart/form-data", b"--x\r\n") == {}  # no boundary parameter
    assert parse_form("text/plain", b"data=1") == {}
    assert parse_form(None, b"") == {}
