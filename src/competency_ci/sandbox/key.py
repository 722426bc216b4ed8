"""The embedded sandbox's own signing key, so that ``--server sandbox`` works on a fresh machine."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from competency_ci.sandbox.state import STATE_DIR, state_dir

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

SANDBOX_KEY = STATE_DIR / "sandbox-key.pem"


def sandbox_key(root: Path) -> tuple[RSAPrivateKey, bool]:
    """The sandbox's own key under ``.competency-ci/``, generated on first use."""
    from competency_ci.targets.cass.signing import load_private_key

    path = root / SANDBOX_KEY
    if path.is_file():
        return load_private_key(path.read_text("utf-8"), source=f"sandbox key {SANDBOX_KEY}"), False
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    state_dir(root)
    path.touch(mode=0o600)
    path.write_bytes(pem)
    return key, True
