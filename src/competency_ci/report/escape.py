"""Escaping for every place our output lands: the Actions log, Markdown, HTML, plain text.

Every string that comes from a file, a file name, a branch or a server is hostile. Two layers keep it
from doing anything but being read:

* Renderers escape each untrusted value for the place it lands: :func:`one_line` for plain text,
  :func:`md_text`, :func:`md_cell`, :func:`md_code`, :func:`md_link` for Markdown (job summaries,
  approval issues), :func:`escape_data` / :func:`escape_property` inside workflow commands.
* :class:`CommandGuard` wraps the CLI's stdout and stderr. The GitHub runner ends a line at ``\\r``
  or ``\\n``, trims leading white space and runs a line that then starts with ``::`` (or holds
  ``##[``, the older syntax) as a workflow command. The guard makes every such line inert unless
  :func:`command` or :func:`stop_commands` built it, whatever a renderer forgot.

The runner's rules are in actions/runner ``ActionCommand.TryParseV2`` (``TrimStart`` then
``StartsWith("::")``) and ``TryParse`` (``IndexOf("##[")``). We split lines wider than the runner
does (every break Python's ``str.splitlines`` knows: ``\\v``, ``\\f``, ``\\x1c-\\x1e``, ``\\x85``,
``\\u2028``, ``\\u2029``), so a viewer that breaks there cannot be used either.
"""

from __future__ import annotations

import re
from typing import TextIO

# Line breaks as str.splitlines sees them (a superset of the runner's \r, \n and \r\n).
BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_BREAK = re.compile(r"\r\n|[" + BREAKS + "]")
_OTHER_BREAKS = re.compile("[\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
INERT = "\u200b"  # a zero-width space: not white space to .NET's TrimStart, invisible to a reader

# --- workflow commands --------------------------------------------------------------------------

_DELIBERATE: set[str] = set()  # the command lines this process built (the guard lets these through)


def escape_data(value: str) -> str:
    """A workflow command's message (actions/toolkit ``escapeData``); the breaks the runner does
    not decode become spaces, so a command is one line by every reader's rule."""
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return _OTHER_BREAKS.sub(" ", value)


def escape_property(value: str) -> str:
    """A workflow command's property value (actions/toolkit ``escapeProperty``)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str = "", **properties: str | int) -> str:
    """One workflow command line, e.g. ``::error file=a.csv,line=3::message``; the guard lets it
    through because it was built here."""
    props = ",".join(f"{k}={escape_property(str(v))}" for k, v in properties.items())
    line = f"::{name}{' ' + props if props else ''}::{escape_data(message)}"
    _DELIBERATE.add(line)
    return line


def stop_commands(text: str, token: str | None = None) -> str:
    """Untrusted multi-line text between ``::stop-commands::`` and its random end token."""
    if not token:
        import secrets  # off the hooks' start-up path

        token = secrets.token_hex(16)
    start, end = f"::stop-commands::{token}", f"::{token}::"
    _DELIBERATE.update((start, end))
    return f"{start}\n{text.rstrip(chr(10))}\n{end}"


def is_command_line(line: str) -> bool:
    """Whether the runner could take this line (no breaks in it) as a workflow command."""
    return line.lstrip().startswith("::") or "##[" in line


def inert_line(line: str) -> str:
    """The same line as text the runner cannot run."""
    if line.lstrip().startswith("::"):
        start = len(line) - len(line.lstrip())
        line = line[:start] + INERT + line[start:]
    return line.replace("##[", "##" + INERT + "[")


def neutralise(text: str) -> str:
    """Make every line that would run a workflow command inert, except the ones we built."""
    parts = _BREAK.split(text)
    if not any(is_command_line(p) for p in parts):
        return text
    breaks = _BREAK.findall(text)
    out = []
    for i, part in enumerate(parts):
        out.append(part if part in _DELIBERATE or not is_command_line(part) else inert_line(part))
        if i < len(breaks):
            out.append(breaks[i])
    return "".join(out)


class CommandGuard:
    """A text stream that passes complete lines through :func:`neutralise`.

    A line is held until it ends (or the stream is flushed), so a command split over several
    writes is seen whole. What follows a flush is checked as a line of its own (stricter, never
    looser).
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        data = self._pending + text
        cut = max(data.rfind(c) for c in BREAKS)
        self._pending = data[cut + 1 :]
        if cut >= 0:
            self.stream.write(neutralise(data[: cut + 1]))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self.stream.write(neutralise(self._pending))
            self._pending = ""
        self.stream.flush()

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


# --- plain text ---------------------------------------------------------------------------------

_SHOW = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


def one_line(text: str) -> str:
    """Untrusted text on one line of plain output: each line break shown as an escape (``\\r``,
    ``\\u2028``), so it cannot start a line of its own."""
    return "".join(_SHOW.get(c, f"\\u{ord(c):04x}") if c in BREAKS else c for c in text)


# --- Markdown and HTML --------------------------------------------------------------------------

# CommonMark lets a backslash escape any ASCII punctuation; these are the ones that mean something
# in GitHub's Markdown (emphasis, links, images, code, tables, headings, lists, quotes, strikeout).
_MD_SPECIAL = re.compile(r"([\\`*_#|~]|\](?=[(\[]))")  # a bracket only where a link would begin
_MD_LEADING = re.compile(r"^(\s*)(?:([-+=])(?=\s|$)|(\d+)(?=[.)](?:\s|$)))")  # a list item or a heading
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")


def _leading(m: re.Match[str]) -> str:
    """``- x``, ``+ x``, ``= x`` or ``1. x`` at the start would begin a list or a heading."""
    return m.group(1) + ("\\" + m.group(2) if m.group(2) else m.group(3) + "\\")


def _flat(text: str) -> str:
    return _BREAK.sub(" ", text)


def md_text(text: str) -> str:
    """Untrusted text in a Markdown paragraph, list item or heading: rendered literally.

    Line breaks become spaces (no new block can start), HTML is escaped (no ``<img>`` beacon, no
    ``</details>``), Markdown punctuation is backslash-escaped (no links, images, emphasis, code or
    leading list/heading syntax) and ``@name`` gets a zero-width space (nobody is notified).
    """
    return _MD_LEADING.sub(_leading, md_cell(text), count=1)


def md_cell(text: str) -> str:
    """Untrusted text in a Markdown table cell: as :func:`md_text`, less the leading list syntax a
    cell cannot start (``|`` is escaped with the rest of the punctuation)."""
    import html  # Markdown output only: off the validate path

    text = _MD_SPECIAL.sub(r"\\\1", _flat(text))
    text = html.escape(text, quote=False)
    return _MENTION.sub("@" + INERT, text)


def md_code(text: str, *, table: bool = False) -> str:
    """Untrusted text as an inline code span: fenced with more backticks than any run inside it, so
    it cannot close early. In a table cell (``table=True``) a pipe still splits the row in GitHub's
    Markdown, so it is escaped there (GitHub drops that backslash inside code)."""
    text = _flat(text)
    if table:
        text = text.replace("|", "\\|")
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_URL_OK = re.compile(r"https?://[^\s<>()\[\]\"'`\\]+\Z", re.IGNORECASE)


def md_url(url: str) -> str | None:
    """A URL fit for a Markdown link target: http(s) only, nothing that ends the target early."""
    return url if _URL_OK.match(url) else None


def md_link(text: str, url: str | None) -> str:
    """``[text](url)`` with both parts escaped; just the text when the URL is not plain http(s)."""
    target = md_url(url) if url else None
    return f"[{md_text(text)}]({target})" if target else md_text(text)


# --- Mermaid ------------------------------------------------------------------------------------

MERMAID_WIDTH = 60


def mermaid_label(text: str, width: int = MERMAID_WIDTH) -> str:
    """Untrusted text as a Mermaid node label, for inside ``["..."]``: shortened to ``width``, line
    breaks flattened, and every character but letters, digits, spaces and ``.,-_`` written as a
    Mermaid entity code (``#35;``). No quote, bracket, pipe or backtick is left to end the label,
    the node or the code fence; no ``<`` for HTML labels, no ``%%`` comment, no ``:::`` class."""
    flat = " ".join(_flat(text).split())
    if len(flat) > width:
        flat = flat[: width - 1].rstrip() + "\u2026"
    return "".join(c if (c.isalnum() and c.isprintable()) or c in " .,-_" else f"#{ord(c)};" for c in flat)
