"""A small framework repository and configuration for the registry, approval and status tests."""

from __future__ import annotations

from pathlib import Path

ORG = "ce-e58c4e21-94b5-4643-831e-d193ded463dc"
GITHUB_TOKEN = "ghs_TESTtoken0123456789abcdefABCDEF0123"
API_KEY = "0b6f4b1e-3d6c-4f51-9a0e-7d2c54b1e9aa"  # 36 characters, as CE's keys
WEBHOOK_SECRET = "whsec-9f8e7d6c5b4a"
PUBLISHER_BASE = "https://sandbox.credentialengine.org/publisher"
PUBLISHER = f"{PUBLISHER_BASE}/summary/organization/42"  # the Organization Summary Page
# The organization as the Registry serves it once CE has approved and published it.
ORGANIZATION = {
    "@context": "https://credreg.net/ctdl/schema/context/json",
    "@id": f"https://sandbox.credentialengineregistry.org/graph/{ORG}",
    "@graph": [
        {
            "@id": f"https://sandbox.credentialengineregistry.org/resources/{ORG}",
            "@type": "ceterms:CredentialOrganization",
            "ceterms:ctid": ORG,
            "ceterms:name": {"en": "Riverside Community Kitchen"},
        }
    ],
}
COMMIT = "3f2a9c1d7e5b4a6f8091a2b3c4d5e6f708192a3b"

HEADER = (
    "@id,@type,ceasn:name,ceasn:description,ceasn:inLanguage,ceasn:publisher,ceasn:publisherName,"
    "ceasn:dateCreated,ceasn:competencyText,ceasn:isTopChildOf,ceasn:isChildOf"
)

KITCHEN = "ce-4cd9ff53-294a-4ed6-a330-5c0870da315a"
KNIVES = "ce-7a1c2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
SERVICE = "ce-0d9e8f7a-6b5c-4d3e-8f1a-2b3c4d5e6f70"

COMPETENCY = "ceasn:Competency,,,,,,,"
FRAMEWORKS = {
    "kitchen.csv": [
        f"{KITCHEN},ceasn:CompetencyFramework,Safe Kitchen Practice,Basic food-safety competencies for "
        f"volunteers.,en,{ORG},Riverside Community Kitchen,2025-03-14,,,",
        f"ce-f234c733-54ca-4645-8ff6-95165dcd0870,{COMPETENCY}Wash hands before handling food.,{KITCHEN},",
        f"ce-80492c39-c0af-4041-adef-1e0a77e24156,{COMPETENCY}Store raw and cooked food apart.,{KITCHEN},",
    ],
    "knives.csv": [
        f"{KNIVES},ceasn:CompetencyFramework,Knife Skills,Safe and efficient use of kitchen knives.,en,{ORG},"
        "Riverside Community Kitchen,2025-04-01,,,",
        f"ce-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e,{COMPETENCY}Hold a chef's knife safely.,{KNIVES},",
        f"ce-2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f,{COMPETENCY}Use the claw grip when slicing.,,"
        "ce-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
    ],
    "service.csv": [
        f"{SERVICE},ceasn:CompetencyFramework,Guest Service,Serving guests with care.,en,{ORG},"
        "Riverside Community Kitchen,2025-05-02,,,",
        f"ce-3d4e5f6a-7b8c-4d9e-8f1a-2b3c4d5e6f7a,{COMPETENCY}Greet every guest by name.,{SERVICE},",
    ],
}


def write_repository(root: Path, registry_url: str, *, extra: str = "") -> Path:
    """Frameworks under ``frameworks/`` and a `.competency-ci.yaml` pointing at the test servers."""
    folder = root / "frameworks"
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in FRAMEWORKS.items():
        (folder / name).write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    config = root / ".competency-ci.yaml"
    config.write_text(
        f"paths: ['frameworks/*.csv']\n"
        f"registry: {registry_url}\n"
        f"assistant: {registry_url}/assistant\n"
        f"organization: {ORG}\n"
        f"approval:\n"
        f"  kind: github-issue\n"
        f"  label: competency-approval\n"
        f"  approvers: [alice, bob]\n"
        f"  repository: acme/frameworks\n"
        f"  publisher-organization-id: 42\n" + extra,
        encoding="utf-8",
    )
    return config
