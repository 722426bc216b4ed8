"""`competency-ci pull` end to end on 127.0.0.1: publish to the sandbox (or make live in the Registry
test server), pull, and `diff` reports no change; exit codes; file names from hostile text; the
reverse mapping reads every shape the publisher has sent."""

from __future__ import annotations

import csv
import io
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from competency_ci.frameworks.build import is_structure, load_frameworks
from competency_ci.frameworks.config import load_config
from competency_ci.frameworks.filename import framework_file_name, slug
from competency_ci.frameworks.jsonld import framework_to_graph, resource_uri
from competency_ci.frameworks.model import Framework
from competency_ci.sandbox import SandboxServer
from competency_ci.schema import COMPETENCY, FRAMEWORK, Column, load_schema
from competency_ci.targets.cass.mapping import map_framework
from competency_ci.targets.cass.publish import publish_frameworks
from competency_ci.targets.cass.reverse import ctid_of, unmap_framework
from publish_support import other_key, our_key, pem, private_pem
from servers.registry import RegistryServer

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = "https://sandbox.credentialengineregistry.org"
# The samples have no publisher column, which CE requires; they are published as they are here.
CONFIG = "rules:\n  missing-column: warning\n"
EXAMPLES = sorted((ROOT / "examples" / "frameworks").glob("*.csv"))
SAMPLES = sorted((ROOT / "tests" / "data" / "samples").glob("*.csv"))
EVERY = Path("every-column.csv")  # written by ``every_column_csv``

FW = "ce-f1000000-0000-4000-8000-0000000000f1"
A = "ce-a1000000-0000-4000-8000-00000000000a"
B = "ce-b1000000-0000-4000-8000-00000000000b"
C = "ce-c1000000-0000-4000-8000-00000000000c"
OTHER = "ce-e2000000-0000-4000-8000-0000000000e2"
ORG = "ce-1abb6c52-0f8c-4b17-9f89-7e9807673106"


def _second(column: Column) -> str:
    """A second value of a multi-valued column, valid for its kind."""
    if column.vocabulary:
        return next(k for k in column.vocabulary if k != column.example)
    if column.jsonld == "versionIdentifier":
        return "7~Edition~https://example.org/identifier-types/edition"
    codes = {"socList": "15-1253.00", "naicsList": "5416", "cipList": "11.0702"}
    if column.name in codes:
        return codes[column.name]
    return {"ctid-or-uri": OTHER, "uri": "https://example.org/second", "language": "fr"}.get(
        column.kind, "second value"
    )


def every_column_csv() -> str:
    """A framework using every column of the descriptor (its examples, two values where a column
    takes several): a top competency with a child, and a second top competency."""
    schema = load_schema()
    header = list(schema.columns)

    def cell(column: Column, row_type: str, row_id: str) -> str:
        if row_type not in column.rows or (is_structure(column) and column.kind != "ctid"):
            return ""
        if column.kind == "language":
            return "en-US|fr" if row_type == FRAMEWORK else "fr"  # a competency's own language
        if column.name == "ceasn:competencyText":
            return f"{column.example} ({row_id})"
        several = column.is_multiple(row_type) if hasattr(column, "is_multiple") else column.multiple
        return f"{column.example}|{_second(column)}" if several else column.example

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row_id, row_type, top, parent in [
        (FW, FRAMEWORK, "", ""),
        (A, COMPETENCY, FW, ""),
        (B, COMPETENCY, "", A),
        (C, COMPETENCY, FW, ""),
    ]:
        row = {name: cell(column, row_type, row_id) for name, column in schema.columns.items()}
        row |= {"@id": row_id, "@type": schema.type_for(row_type), "ceterms:ctid": row_id}
        row |= {"ceasn:isTopChildOf": top, "ceasn:isChildOf": parent}
        writer.writerow([row[name] for name in header])
    return out.getvalue()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository folder (the working directory) signing with the test key."""
    (tmp_path / ".git").mkdir()
    (tmp_path / ".competency-ci.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / EVERY).write_text(every_column_csv(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CASS_KEY", private_pem(our_key()))
    return tmp_path


def publish_file(sandbox: SandboxServer, repo: Path, source: Path) -> list[Framework]:
    path = repo / "published" / source.name
    path.parent.mkdir(exist_ok=True)
    shutil.copyfile(source if source.is_absolute() else repo / source, path)
    config = load_config(None, repo)
    frameworks = load_frameworks(path, config)
    result = publish_frameworks(frameworks, config, sandbox.url, our_key(), timeout=30)
    assert result.ok, result.error
    return frameworks


def semantic_diff(run_cli: Any, old: Path, new: Path) -> tuple[int, str]:
    code, out, err = run_cli("diff", "--exit-code", str(old), str(new))
    assert err == ""
    return code, out


ROUND_TRIP = [*EXAMPLES, *SAMPLES, EVERY]


@pytest.mark.parametrize("source", ROUND_TRIP, ids=[p.name for p in ROUND_TRIP])
def test_pull_of_what_publish_wrote_is_unchanged(
    source: Path, sandbox: SandboxServer, repo: Path, run_cli: Any
) -> None:
    frameworks = publish_file(sandbox, repo, source)
    (fw,) = frameworks
    before = len(sandbox.request_log)
    code, out, _ = run_cli("pull", "--server", sandbox.url, "--framework", fw.ctid.upper(), "-o", "pulled")
    name = framework_file_name(fw.name, fw.ctid)
    assert (code, out) == (
        0,
        f"wrote pulled/{name}: {fw.name} ({fw.ctid}), {len(fw.competencies)} competencies\n",
    )
    assert [f"{r.method} {r.path}" for r in sandbox.request_log[before:]] == [
        "GET /api/ping",
        "POST /api/sky/repo/multiGet",
        "POST /api/sky/repo/multiGet",
    ]
    assert not [r for r in sandbox.request_log[before:] if r.is_write]
    assert semantic_diff(run_cli, repo / "published" / source.name, repo / "pulled" / name) == (
        0,
        "no changes\n",
    )
    # the written file is in the template's column order and publishes as no change
    header = (repo / "pulled" / name).read_text("utf-8").splitlines()[0].split(",")
    assert run_cli("template", "--tier", "all", "-o", "template.csv")[0] == 0
    template = (repo / "template.csv").read_text("utf-8").splitlines()[0].split(",")
    assert header == [c for c in template if c in header]
    config = load_config(None, repo)
    again = publish_frameworks(
        load_frameworks(repo / "pulled" / name, config), config, sandbox.url, our_key()
    )
    assert [f.status for f in again.frameworks] == ["unchanged"]


def test_pull_again_is_unchanged_and_never_overwrites_without_force(
    sandbox: SandboxServer, repo: Path, run_cli: Any
) -> None:
    (fw,) = publish_file(sandbox, repo, EXAMPLES[0])
    args = ("pull", "--server", sandbox.url, "--framework", fw.ctid)
    assert run_cli(*args)[0] == 0
    path = repo / framework_file_name(fw.name, fw.ctid)
    code, out, err = run_cli(*args)
    assert (code, err) == (0, "") and out.startswith(f"unchanged {path.name}: ")
    path.write_text("edited\n", encoding="utf-8")
    code, out, err = run_cli(*args)
    assert (code, out) == (1, "")
    assert err == (
        f"competency-ci pull: {path.name} exists and differs: left alone (--force replaces it, or pull "
        "into another folder with -o and compare: competency-ci diff OLD NEW)\n"
    )
    assert path.read_text("utf-8") == "edited\n"
    target = repo / "elsewhere.csv"
    target.write_text("not yours\n", encoding="utf-8")
    path.unlink()
    path.symlink_to(target)
    assert run_cli(*args)[0] == 1  # a link is never written through
    code, out, _ = run_cli(*args, "--force")
    assert code == 0 and out.startswith(f"wrote {path.name}: ")
    assert not path.is_symlink() and target.read_text("utf-8") == "not yours\n"


def test_unknown_and_malformed_ctids_are_unusable_input(
    sandbox: SandboxServer, repo: Path, run_cli: Any
) -> None:
    (fw,) = publish_file(sandbox, repo, EXAMPLES[1])
    unknown = "ce-00000000-0000-4000-8000-000000000000"
    code, out, err = run_cli("pull", "--server", sandbox.url, "--framework", fw.ctid, "--framework", unknown)
    assert code == 2
    assert err == f"competency-ci pull: {unknown}: no framework with this CTID on {sandbox.url}\n"
    assert out.startswith("wrote ")  # the known one is still written
    a_competency = fw.competencies[0].ctid
    code, _, err = run_cli("pull", "--server", sandbox.url, "--framework", a_competency, "-o", "x")
    assert (code, err) == (
        2,
        f"competency-ci pull: {a_competency}: no framework with this CTID on {sandbox.url}\n",
    )
    assert not (repo / "x").exists() or not list((repo / "x").iterdir())
    code, _, err = run_cli("pull", "--server", sandbox.url, "--framework", "ce-nope\x1b[31m")
    assert (code, err) == (2, "competency-ci pull: --framework: not a CTID (ce-UUID): ce-nope\x1b[31m\n")
    assert run_cli("pull", "--server", sandbox.url)[0] == 2
    code, _, err = run_cli("pull", "--server", sandbox.url, "--registry", "--framework", fw.ctid)
    assert (code, err) == (2, "competency-ci pull: give --server or --registry, not both\n")


def test_a_server_that_fails_is_a_remote_failure(repo: Path, run_cli: Any) -> None:
    with RegistryServer("k" * 36) as not_cass:  # answers 404 to /api/ping
        code, out, err = run_cli("pull", "--server", not_cass.url, "--framework", FW, "--timeout", "5")
    assert (code, out) == (3, "")
    assert err.startswith(f"competency-ci pull: GET {not_cass.url}/ping: HTTP 404")
    assert err.endswith("; nothing was written\n")


def test_organization_lists_its_frameworks_through_the_search_api(
    sandbox: SandboxServer, repo: Path, run_cli: Any
) -> None:
    publish_file(sandbox, repo, EXAMPLES[0])  # publisher ce-617ce9ba-...
    (kitchen,) = publish_file(sandbox, repo, EXAMPLES[1])  # publisher ce-e58c4e21-...
    org = str(kitchen.properties["ceasn:publisher"][0])
    before = len(sandbox.request_log)
    code, out, _ = run_cli("pull", "--server", sandbox.url, "--organization", org, "-o", "org")
    assert code == 0
    name = framework_file_name(kitchen.name, kitchen.ctid)
    assert out == f"wrote org/{name}: {kitchen.name} ({kitchen.ctid}), 3 competencies\n"
    search = [r for r in sandbox.request_log[before:] if r.path.startswith("/api/data?")]
    assert [(r.method, parse_qs(urlsplit(r.path).query)) for r in search] == [
        (
            "GET",
            {
                "q": [f'@type:Framework AND schema\\:publisher:"{REGISTRY}/resources/{org}"'],
                "start": ["0"],
                "size": ["100"],
            },
        )
    ]
    nobody = "ce-99999999-9999-4999-8999-999999999999"
    code, out, _ = run_cli("pull", "--server", sandbox.url, "--organization", nobody)
    assert (code, out) == (
        1,
        f"competency-ci pull: {nobody}: no frameworks of this organization on {sandbox.url}\n",
    )


def test_the_embedded_sandbox_pulls_what_publish_sandbox_wrote(repo: Path, run_cli: Any) -> None:
    path = repo / "frameworks" / EXAMPLES[1].name
    path.parent.mkdir()
    shutil.copyfile(EXAMPLES[1], path)
    assert run_cli("publish", "--server", "sandbox", str(path))[0] == 0
    (fw,) = load_frameworks(path, load_config(None, repo))
    code = run_cli("pull", "--server", "sandbox", "--framework", fw.ctid, "-o", "pulled")[0]
    assert code == 0
    assert semantic_diff(run_cli, path, repo / "pulled" / framework_file_name(fw.name, fw.ctid)) == (
        0,
        "no changes\n",
    )


# --- the Registry ----------------------------------------------------------------------------------


@pytest.fixture
def registry() -> Iterator[RegistryServer]:
    with RegistryServer("k" * 36) as server:
        yield server


def registry_columns(source: Path, folder: Path) -> Path:
    """The file without the columns the Registry has no term for (``owner``: CASS's access control)."""
    rows = list(csv.reader(io.StringIO(source.read_text("utf-8"), newline="")))
    schema = load_schema()
    columns = [schema.columns.get(name) for name in rows[0]]
    keep = [i for i, c in enumerate(columns) if c is None or c.jsonld or is_structure(c)]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([[row[i] for i in keep] for row in rows])
    folder.mkdir(exist_ok=True)
    path = folder / source.name
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


@pytest.mark.parametrize("source", ROUND_TRIP, ids=[p.name for p in ROUND_TRIP])
def test_pull_from_the_registry_gives_back_what_was_published(
    source: Path, registry: RegistryServer, repo: Path, run_cli: Any
) -> None:
    (repo / ".competency-ci.yaml").write_text(CONFIG + f"registry: {registry.url}\n", encoding="utf-8")
    config = load_config(None, repo)
    path = registry_columns(source if source.is_absolute() else repo / source, repo / "published")
    (fw,) = load_frameworks(path, config)
    registry.make_live(framework_to_graph(fw, config.registry_url, config.language))
    code, out, _ = run_cli("pull", "--registry", "--framework", fw.ctid, "-o", "pulled")
    name = framework_file_name(fw.name, fw.ctid)
    assert (code, out) == (
        0,
        f"wrote pulled/{name}: {fw.name} ({fw.ctid}), {len(fw.competencies)} competencies\n",
    )
    assert [f"{r.method} {r.route}" for r in registry.requests] == [f"GET /graph/{fw.ctid}"]
    assert semantic_diff(run_cli, path, repo / "pulled" / name) == (0, "no changes\n")


def test_registry_unknown_ctid_listing_and_failure(
    registry: RegistryServer, repo: Path, run_cli: Any
) -> None:
    from servers.recording import Reply

    code, _, err = run_cli("pull", "--registry", registry.url, "--framework", FW)
    assert (code, err) == (2, f"competency-ci pull: {FW}: no framework with this CTID on {registry.url}\n")
    code, _, err = run_cli("pull", "--registry", registry.url, "--organization", ORG)
    assert code == 2 and err.startswith("competency-ci pull: --organization: the Registry cannot list")
    registry.force(*[Reply(500, {"error": "boom"})] * 100)
    code, out, err = run_cli("pull", "--registry", registry.url, "--framework", FW, "--timeout", "5")
    assert (code, out) == (3, "")
    assert err.endswith("; nothing was written\n")


# --- names from hostile text ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Safe Kitchen Practice", "safe-kitchen-practice-4cd9ff53.csv"),
        ("../../etc/passwd", "etc-passwd-4cd9ff53.csv"),
        (".hidden", "hidden-4cd9ff53.csv"),
        ("a/b\\c\x00d\x1b[31me\nf", "a-b-c-d-31me-f-4cd9ff53.csv"),
        ("Café déjà vu", "cafe-deja-vu-4cd9ff53.csv"),
        ("\u202e\u200b…", "framework-4cd9ff53.csv"),
        ("CON", "framework-con-4cd9ff53.csv"),
        ("x" * 300, "x" * 60 + "-4cd9ff53.csv"),
    ],
)
def test_file_names_from_server_text_are_safe(name: str, expected: str) -> None:
    assert framework_file_name(name, "ce-4cd9ff53-294a-4ed6-a330-5c0870da315a") == expected


def test_slug_cuts_at_a_word() -> None:
    assert slug("alpha beta gamma", 12) == "alpha-beta"


def test_a_hostile_name_on_the_server_lands_in_a_safe_file(
    sandbox: SandboxServer, repo: Path, run_cli: Any
) -> None:
    text = EXAMPLES[1].read_text("utf-8").replace("Safe Kitchen Practice", "../.. /.evil\u2028::warning::x")
    source = repo / "hostile.csv"
    source.write_text(text, encoding="utf-8")
    (fw,) = publish_file(sandbox, repo, source)
    code, out, _ = run_cli("pull", "--server", sandbox.url, "--framework", fw.ctid, "-o", "pulled")
    assert code == 0
    assert [p.name for p in (repo / "pulled").iterdir()] == ["evil-warning-x-4cd9ff53.csv"]
    assert "\u2028" not in out and "\n::" not in out


# --- the reverse mapping, object by object ---------------------------------------------------------


def _objects(framework: Framework) -> tuple[dict[str, Any], dict[str, Any]]:
    mapped = map_framework(
        framework, registry_url=REGISTRY, cass_base="http://cass/api/", owner_pem=pem(our_key())
    )
    by_id = {item.id: item.data for item in mapped.items}
    return by_id[mapped.id], by_id


def test_reverse_reads_the_older_plain_shapes_and_language_maps(repo: Path) -> None:
    fw_obj = {
        "@id": resource_uri(REGISTRY, FW),
        "@type": "Framework",
        "ceterms:ctid": FW,
        "name": "Plain name",  # before text was tagged
        "description": {"en-us": "A language map", "fr": "Une carte"},
        "schema:inLanguage": ["en-US"],
        "ceterms:versionIdentifier": ["2024.1~Catalog Year"],  # before IdentifierValue objects
        "ceasn:dateCreated": "2024-05-01",
        "schema:dateModified": "2026-12-04T18:00:00Z",  # CASS's own record timestamp
        "owner": [pem(our_key()), pem(other_key())],
        "competency": [resource_uri(REGISTRY, A)],
        "relation": [],
        "level": ["made in the editor"],
    }
    comp = {
        "@id": resource_uri(REGISTRY, A),
        "@type": "https://schema.cassproject.org/0.4/Competency",
        "name": [{"@value": "Tagged text", "@language": "en-us"}],
        "schema:inLanguage": ["en-US"],
        "ceterms:versionIdentifier": [
            {
                "@type": "ceterms:IdentifierValue",
                "ceterms:identifierTypeName": {"@value": "Edition", "@language": "en-us"},
                "ceterms:identifierValueCode": "7",
            }
        ],
    }
    pulled = unmap_framework(fw_obj, {comp["@id"]: comp}, registry_url=REGISTRY, owner_pem=pem(our_key()))
    fw = pulled.framework
    assert fw.properties == {
        "ceasn:name": "Plain name",
        "ceasn:description": "A language map",
        "ceasn:inLanguage": ["en-US"],
        "ceterms:versionIdentifier": ["2024.1~Catalog Year"],
        "ceasn:dateCreated": "2024-05-01",
        "owner": pem(other_key()),
    }
    assert [c.properties for c in fw.competencies] == [
        {"ceasn:competencyText": "Tagged text", "ceterms:versionIdentifier": ["7~Edition"]}
    ]
    assert pulled.notes == [f"{resource_uri(REGISTRY, FW)}: no CSV column for level; left out"]


def test_reverse_of_map_framework_is_the_model(repo: Path) -> None:
    config = load_config(None, repo)
    (fw,) = load_frameworks(repo / EVERY, config)
    fw_obj, objects = _objects(fw)
    back = unmap_framework(fw_obj, objects, registry_url=REGISTRY, owner_pem=pem(our_key())).framework
    assert back.properties == fw.properties
    assert [(c.ctid, c.properties, c.parent.ctid if c.parent else None) for c in back.competencies] == [
        (c.ctid, c.properties, c.parent.ctid if c.parent else None) for c in fw.competencies
    ]


def test_a_framework_made_in_the_cass_editor_has_the_ctid_of_its_guid() -> None:
    native = (
        "http://cass/api/data/schema.cassproject.org.0.4.Framework/4cd9ff53-294a-4ed6-a330-5c0870da315a/17"
    )
    assert ctid_of({"@id": native}) == "ce-4cd9ff53-294a-4ed6-a330-5c0870da315a"
    assert ctid_of({"@id": "http://cass/api/data/x/not-a-uuid/1"}) == ""
    assert ctid_of({"@id": native, "ceterms:ctid": " CE-11111111-2222-4333-8444-555555555555 "}) == (
        "ce-11111111-2222-4333-8444-555555555555"
    )


def test_source_urls_follow_the_one_url_policy(repo: Path, run_cli: Any) -> None:
    code, out, err = run_cli("pull", "--registry", "http://registry.example.org", "--framework", FW)
    assert (code, out) == (2, "")
    assert err == (
        "competency-ci pull: --registry: refusing plain http:// to registry.example.org: secrets and "
        "signatures would travel unencrypted; use https:// (or, for CASS, pass --allow-insecure-http)\n"
    )
    code, _, err = run_cli("pull", "--server", "ftp://cass.example.org/api/", "--framework", FW)
    assert code == 2 and "ftp://cass.example.org/api/" in err


def test_a_framework_made_in_the_cass_editor_is_pulled_by_its_guid(
    sandbox: SandboxServer, repo: Path, run_cli: Any
) -> None:
    """Objects as CASS's editor saves them: CASS ids with versions, plain text, a narrows relation."""
    guid, child, parent, rel = (
        "4cd9ff53-294a-4ed6-a330-5c0870da315a",
        "a2222222-2222-4222-8222-222222222222",
        "b3333333-3333-4333-8333-333333333333",
        "c4444444-4444-4444-8444-444444444444",
    )
    base, now = f"{sandbox.url}data/schema.cassproject.org.0.4.", int(time.time() * 1000)
    objects = [
        {
            "@context": "https://schema.cassproject.org/0.4",
            "@type": "Competency",
            "@id": f"{base}Competency/{parent}/{now}",
            "name": "Cook safely",
        },
        {
            "@context": "https://schema.cassproject.org/0.4",
            "@type": "Competency",
            "@id": f"{base}Competency/{child}/{now}",
            "name": {"en": "Wash hands"},
        },
        {
            "@context": "https://schema.cassproject.org/0.4",
            "@type": "Relation",
            "@id": f"{base}Relation/{rel}/{now}",
            "relationType": "narrows",
            "source": f"{base}Competency/{child}",
            "target": f"{base}Competency/{parent}",
        },
        {
            "@context": "https://schema.cassproject.org/0.4",
            "@type": "Framework",
            "@id": f"{base}Framework/{guid}/{now}",
            "name": "Kitchen",
            "description": "Made in the editor",
            "competency": [f"{base}Competency/{parent}", f"{base}Competency/{child}"],
            "relation": [f"{base}Relation/{rel}"],
        },
    ]
    saved = requests.post(
        f"{sandbox.url}sky/repo/multiPut", files={"data": (None, json.dumps(objects))}, timeout=10
    )
    assert saved.status_code == 200 and len(saved.json()) == 4
    code, out, err = run_cli("pull", "--server", sandbox.url, "--framework", f"ce-{guid}", "-o", "pulled")
    assert (code, out, err) == (
        0,
        f"wrote pulled/kitchen-4cd9ff53.csv: Kitchen (ce-{guid}), 2 competencies\n",
        "",
    )
    assert (repo / "pulled" / "kitchen-4cd9ff53.csv").read_text("utf-8") == (
        "@id,@type,ceterms:ctid,ceasn:name,ceasn:description,ceasn:competencyText,ceasn:isTopChildOf,"
        "ceasn:isChildOf\n"
        f"ce-{guid},ceasn:CompetencyFramework,ce-{guid},Kitchen,Made in the editor,,,\n"
        f"ce-{parent},ceasn:Competency,ce-{parent},,,Cook safely,ce-{guid},\n"
        f"ce-{child},ceasn:Competency,ce-{child},,,Wash hands,,ce-{parent}\n"
    )
