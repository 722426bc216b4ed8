"""Shared by the publish tests and the benchmark: keys, a small framework, server snapshots."""

from __future__ import annotations

import csv
import json
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from competency_ci.frameworks.build import load_frameworks
from competency_ci.frameworks.config import Config
from competency_ci.frameworks.model import Framework
from competency_ci.targets.cass.ids import short_id
from competency_ci.targets.cass.signing import cass_pem, load_private_key

VECTORS = Path(__file__).resolve().parent / "data" / "vectors" / "cass-signature-vectors.json"
REGISTRY = "https://sandbox.credentialengineregistry.org"

FW = "ce-10000000-0000-4000-8000-000000000000"
A = "ce-a0000000-0000-4000-8000-00000000000a"
B = "ce-b0000000-0000-4000-8000-00000000000b"
C = "ce-c0000000-0000-4000-8000-00000000000c"
D = "ce-d0000000-0000-4000-8000-00000000000d"
FW2 = "ce-20000000-0000-4000-8000-000000000000"
E = "ce-e0000000-0000-4000-8000-00000000000e"

HEADER = (
    "@id,@type,ceasn:name,ceasn:description,ceasn:inLanguage,ceasn:publisherName,"
    "ceasn:competencyText,ceasn:comment,ceasn:isTopChildOf,ceasn:isChildOf"
)


def uri(ctid: str) -> str:
    return f"{REGISTRY}/resources/{ctid}"


@cache
def our_key() -> Any:
    """The throw-away test key of the signature vectors."""
    data = json.loads(VECTORS.read_text("utf-8"))
    return load_private_key(data["test_key"]["private_key_pem"])


@cache
def other_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: Any) -> str:
    return str(cass_pem(key.public_key()))


def private_pem(key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return str(raw.decode("ascii"))


def framework_rows(
    *,
    name: str = "Test Framework",
    texts: dict[str, str] | None = None,
    parents: dict[str, str | None] | None = None,
    order: tuple[str, ...] = (A, B, C, D),
    comment_b: str = "",
) -> list[str]:
    """FW with A (top) > B, C and D (top); overrides change text, parent or order."""
    texts = {A: "Alpha", B: "Bravo", C: "Charlie", D: "Delta", **(texts or {})}
    parents = {A: None, B: A, C: A, D: None, **(parents or {})}
    rows = [f"{FW},ceasn:CompetencyFramework,{name},A framework for tests.,en-US,Test Org,,,,"]
    for ctid in order:
        parent = parents.get(ctid)
        top = "" if parent else FW
        comment = comment_b if ctid == B else ""
        rows.append(f"{ctid},ceasn:Competency,,,,,{texts[ctid]},{comment},{top},{parent or ''}")
    return rows


def second_framework_rows(fw: str = FW2, competency: str = E, name: str = "Second") -> list[str]:
    return [
        f"{fw},ceasn:CompetencyFramework,{name},Another framework.,en,Test Org,,,,",
        f"{competency},ceasn:Competency,,,,,Echo,,{fw},",
    ]


# CE's publishing API refuses a framework without a publisher: every framework row gets this one
# (in a last column, so the rows above keep their cell positions)
PUBLISHER = "ce-3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a45"


def with_publisher(header: str, rows: list[str]) -> list[str]:
    """The header and rows with a ``ceasn:publisher`` column last (PUBLISHER on framework rows)."""
    if "ceasn:publisher" in header.split(","):
        return [header, *rows]
    out = [f"{header},ceasn:publisher"]
    for row in rows:
        cells = next(csv.reader([row]), [])
        framework = len(cells) > 1 and cells[1] == "ceasn:CompetencyFramework"
        out.append(f"{row},{PUBLISHER if framework else ''}")
    return out


def write_csv(path: Path, rows: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(with_publisher(HEADER, rows)) + "\n", encoding="utf-8")
    return path


def load(path: Path) -> list[Framework]:
    return load_frameworks(path, Config(root=path.parent))


def snapshot(sandbox: Any) -> dict[str, dict[str, Any]]:
    """Server contents by short id, without server base and versions (comparable across servers)."""
    base = sandbox.app.settings.base_url
    result: dict[str, dict[str, Any]] = {}
    for stored in sandbox.store.scan():
        obj = json.loads(stored.body)
        obj["@id"] = short_id(obj["@id"])
        obj = json.loads(json.dumps(obj).replace(base, "BASE/"))
        result[obj["@id"]] = obj
    return result


def git(root: Path, *args: str) -> str:
    """Run git in ``root`` as a throwaway identity; its output."""
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout
