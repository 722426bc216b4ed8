"""Form bodies as CASS reads them with busboy: multipart fields and file parts alike (cass-api.md §1.1).

A small boundary splitter instead of ``cgi`` (removed in Python 3.13) or ``email`` (slow on the
multi-megabyte bodies a 10,000-competency ``multiPut`` sends).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

_PARAM = re.compile(r';\s*([A-Za-z0-9_*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def _params(header_value: str) -> tuple[str, dict[str, str]]:
    """``type/subtype; a=b; c="d"`` -> (``type/subtype``, {a: b, c: d}), names lower-cased."""
    main, _, rest = header_value.partition(";")
    params: dict[str, str] = {}
    for name, value in _PARAM.findall(";" + rest):
        value = value.strip()
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[name.lower()] = value
    return main.strip().lower(), params


def parse_form(content_type: str | None, body: bytes) -> dict[str, bytes]:
    """Named parts of a form body; the last part of a repeated name wins. Unknown bodies give {}."""
    kind, params = _params(content_type or "")
    if kind in ("multipart/form-data", "multipart/mixed"):  # §1.1: mixed is read as form-data
        boundary = params.get("boundary")
        return _multipart(body, boundary.encode("latin-1")) if boundary else {}
    if kind == "application/x-www-form-urlencoded":  # §1.1: busboy also reads url-encoded forms
        text = body.decode("utf-8", errors="replace")
        return {k: v.encode("utf-8") for k, v in parse_qsl(text, keep_blank_values=True)}
    return {}


def _multipart(body: bytes, boundary: bytes) -> dict[str, bytes]:
    fields: dict[str, bytes] = {}
    delimiter = b"--" + boundary
    start = body.find(delimiter)
    while start != -1:
        start += len(delimiter)
        if body[start : start + 2] == b"--":  # closing delimiter
            break
        end = body.find(b"\r\n" + delimiter, start)
        if end == -1:
            break
        part = body[start:end]
        if part.startswith(b"\r\n"):
            part = part[2:]
        head, sep, content = part.partition(b"\r\n\r\n")
        if sep:
            name = _part_name(head)
            if name is not None:
                fields[name] = content
        start = end + 2
    return fields


def _part_name(head: bytes) -> str | None:
    for line in head.decode("utf-8", errors="replace").split("\r\n"):
        header, _, value = line.partition(":")
        if header.strip().lower() == "content-disposition":
            return _params(value)[1].get("name")
    return None
