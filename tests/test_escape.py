"""Hostile text on every output channel (issue 14): no workflow command, no HTML, no mention.

A framework named ``Kitchen\\r::warning title=pwned::injected`` (a bare carriage return inside a
quoted cell is valid CSV), a file name with a line break, and Markdown/HTML payloads go through
every command that prints them. The runner's reading is emulated strictly: a line ends at any break
Python knows, leading white space is trimmed (``TrimStart``), and a line starting with ``::`` or
holding ``##[`` counts as a command.
"""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from approval_fixtures import API_KEY, COMPETENCY, HEADER, KITCHEN, ORG, write_repository
from competency_ci.report import escape as esc
from servers.registry import RegistryServer

PAYLOAD = "Kitchen\r::warning title=pwned::injected"
HTML = '<img src="https://tracker.example/p.png"> </details> `code` @alice'
NAME = f"{PAYLOAD} {HTML}"
BREAKS = ["\r", "\n", "\r\n", "\u2028", "\u2029", "\x85", "\v", "\f"]


def commands(output: str) -> list[str]:
    """Every line of ``output`` that the runner (or a stricter reader) would run as a command."""
    return [line for line in re.split(r"\r\n|[" + esc.BREAKS + "]", output) if esc.is_command_line(line)]


def csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def hostile_repository(root: Path, registry_url: str = "https://registry.invalid") -> Path:
    config = write_repository(root, registry_url)
    for other in ("knives.csv", "service.csv"):
        (root / "frameworks" / other).unlink()
    rows = [
        HEADER,
        f"{KITCHEN},ceasn:CompetencyFramework,{csv_cell(NAME)},Basic.,en,{ORG},Riverside,2025-03-14,,,",
        f"ce-f234c733-54ca-4645-8ff6-95165dcd0870,{COMPETENCY}{csv_cell('Wash' + chr(13) + '::error::x')},"
        f"{KITCHEN},",
    ]
    (root / "frameworks" / "kitchen.csv").write_bytes(("\n".join(rows) + "\n").encode())
    return config


# --- the escaping functions -----------------------------------------------------------------------


@pytest.mark.parametrize("brk", BREAKS)
def test_every_line_break_is_neutralised(brk: str) -> None:
    text = f"ok{brk}::warning::x{brk} \t::error::y{brk}a ##[warning]z"
    out = esc.neutralise(text)
    assert commands(out) == []
    assert out.replace(esc.INERT, "") == text  # only a zero-width space was added


def test_deliberate_commands_pass_and_copies_of_their_text_stay_harmless() -> None:
    line = esc.command("error", "bad\rcell\u2028x", file="a.csv", line=3)
    assert line == "::error file=a.csv,line=3::bad%0Dcell x"
    wrapped = esc.stop_commands("::error::inside", token="t0k")
    out = esc.neutralise(f"{line}\n{wrapped}\n::notice::forged\n")
    assert commands(out) == [line, "::stop-commands::t0k", "::t0k::"]


def test_the_guard_sees_a_command_split_over_writes() -> None:
    sink = io.StringIO()
    guard = esc.CommandGuard(sink)  # type: ignore[arg-type]
    for part in ["  :", ":warn", "ing::x\r", "::error", "::y", "\n", "tail"]:
        guard.write(part)
    guard.flush()
    assert commands(sink.getvalue()) == []
    assert sink.getvalue().replace(esc.INERT, "") == "  ::warning::x\r::error::y\ntail"


def test_markdown_escaping() -> None:
    assert esc.md_text(NAME) == (
        'Kitchen ::warning title=pwned::injected &lt;img src="https://tracker.example/p.png"&gt; '
        "&lt;/details&gt; \\`code\\` @\u200balice"
    )
    assert esc.md_cell("a|b") == "a\\|b"
    assert esc.md_text("- item") == "\\- item"
    assert esc.md_text("12. item") == "12\\. item"
    assert (
        esc.md_text("# head [x](y) ![i](t) *e* _u_ ~s~")
        == "\\# head [x\\](y) ![i\\](t) \\*e\\* \\_u\\_ \\~s\\~"
    )
    assert (esc.md_text("1.4 data"), esc.md_cell("- item"), esc.md_text("-x")) == ("1.4 data", "- item", "-x")
    assert esc.md_code("a`b``c") == "```a`b``c```"
    assert esc.md_code("`x`") == "`` `x` ``"
    assert esc.md_code("a|b", table=True) == "`a\\|b`"
    assert esc.md_code("x\ry") == "`x y`"
    assert esc.md_link("CE", "https://x.org/a b") == "CE"
    assert esc.md_link("CE", "javascript:alert(1)") == "CE"
    assert esc.md_link("C[E](u)", "https://x.org/g/1") == "[C[E\\](u)](https://x.org/g/1)"
    assert esc.one_line("a\rb\u2028c") == "a\\rb\\u2028c"


# --- every command that prints framework text -------------------------------------------------------


def assert_inert(output: str, fmt: str) -> None:
    """No command in any format; in Markdown also no raw HTML from the input and no live mention."""
    assert commands(output) == []
    if fmt == "markdown":
        visible = output.split("<!-- competency-ci:state")[0]  # the hidden state is JSON in a comment
        assert "<img" not in visible and "</details> `code`" not in visible and "@alice" not in visible


def test_validate_github_with_a_hostile_file_name_and_cell(tmp_path: Path, run_cli: Any) -> None:
    bad = tmp_path / "x\r::warning::name.csv"
    rows = [
        HEADER,
        f"{KITCHEN},ceasn:CompetencyFramework,K,D,{csv_cell('e' + chr(13) + '::error::c')},{ORG},R,",
    ]
    bad.write_bytes(("\n".join(rows) + "\n").encode())
    code, out, err = run_cli("validate", "--format", "github", str(bad))
    assert code == 1
    annotation = re.compile(r"::(error|warning|notice) file=[^,]*/x%0D%3A%3Awarning%3A%3Aname\.csv,line=2,")
    found = commands(out + err)
    assert found and all(annotation.match(c) for c in found)
    assert any('Not a valid language code: "e\\r::error::c"' in c for c in found)
    code, out, err = run_cli("validate", "--format", "text", str(bad))
    assert code == 1
    assert commands(out + err) == []
    assert "x\\r::warning::name.csv:2: E2 (ceasn:inLanguage): error [bad-language]" in out


def test_diff_markdown_and_text(tmp_path: Path, run_cli: Any) -> None:
    hostile_repository(tmp_path)
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@x"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "a"], check=True)
    path = tmp_path / "frameworks" / "kitchen.csv"
    path.write_bytes(path.read_bytes().replace(b"Basic.", b"Changed."))
    subprocess.run([*git, "commit", "-qam", "b"], check=True)
    old, new = tmp_path / "old.csv", path
    old.write_bytes(path.read_bytes().replace(b"Changed.", b"Basic."))
    for fmt in ("markdown", "text", "json"):
        code, out, err = run_cli("diff", "--format", fmt, str(old), str(new))
        assert code == 0, err
        assert_inert(out + err, fmt)
    code, out, _ = run_cli("diff", "--format", "markdown", str(old), str(new))
    assert f"### {esc.md_text(NAME)} (`{KITCHEN}`): changed" in out


def test_status_text_and_markdown(tmp_path: Path, run_cli: Any) -> None:
    with RegistryServer(API_KEY) as registry:
        config = hostile_repository(tmp_path, registry.url)
        for fmt in ("text", "markdown", "json"):
            code, out, err = run_cli("status", "--config", str(config), "--format", fmt)
            assert code == 0, err
            assert_inert(out + err, fmt)
        code, out, _ = run_cli("status", "--config", str(config), "--format", "markdown")
        assert f"| {esc.md_cell(NAME)} | `{KITCHEN}` |" in out
        code, out, _ = run_cli("status", "--config", str(config))
        assert out.startswith(f"frameworks/kitchen.csv: {esc.one_line(NAME)} ({KITCHEN}): not yet live")


def test_plan_and_publish_text_and_markdown(tmp_path: Path, run_cli: Any, monkeypatch: Any) -> None:
    config = hostile_repository(tmp_path)
    monkeypatch.chdir(tmp_path)
    csv = str(tmp_path / "frameworks" / "kitchen.csv")
    for command, fmt in (("plan", "text"), ("plan", "markdown"), ("publish", "text")):
        code, out, err = run_cli(
            command, "--config", str(config), "--server", "sandbox", "--format", fmt, csv
        )
        assert code == 0, err
        assert_inert(out + err, fmt)
        assert "pwned" in out


def test_request_approval_dry_run(tmp_path: Path, run_cli: Any) -> None:
    config = hostile_repository(tmp_path)
    for fmt in ("text", "markdown", "json"):
        code, out, err = run_cli("request-approval", "--config", str(config), "--dry-run", "--format", fmt)
        assert code == 0, err
        assert_inert(out + err, fmt)
    _, out, _ = run_cli("request-approval", "--config", str(config), "--dry-run", "--format", "markdown")
    assert f"**{esc.md_text(NAME)}**" in out
    assert "@alice" not in out.split("<!-- competency-ci:state")[0]
