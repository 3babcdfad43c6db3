"""Who may do what, and API keys.

A key reads `alc_<key_id>_<secret>`. Only `key_id`, a random per-key salt and
sha256(salt + secret) are stored; checking compares digests in constant time.

| role | may |
|---|---|
| officer | read |
| panel | read, upload cases, solve, decide |
| estates | read, upload cases, sites, plan-places, whatif |
| admin | manage keys |
"""

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from enum import StrEnum

PREFIX = "alc"


class Role(StrEnum):
    OFFICER = "officer"
    PANEL = "panel"
    ESTATES = "estates"
    ADMIN = "admin"


class Permission(StrEnum):
    READ = "read"
    UPLOAD = "upload"
    SOLVE = "solve"
    DECIDE = "decide"
    SITES = "sites"
    PLAN_PLACES = "plan-places"
    WHATIF = "whatif"
    MANAGE_KEYS = "manage_keys"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OFFICER: frozenset({Permission.READ}),
    Role.PANEL: frozenset({Permission.READ, Permission.UPLOAD, Permission.SOLVE, Permission.DECIDE}),
    Role.ESTATES: frozenset(
        {Permission.READ, Permission.UPLOAD, Permission.SITES, Permission.PLAN_PLACES, Permission.WHATIF}
    ),
    Role.ADMIN: frozenset({Permission.MANAGE_KEYS}),
}


def may(role: str, permission: Permission) -> bool:
    return role in ROLE_PERMISSIONS and permission in ROLE_PERMISSIONS[Role(role)]


@dataclass(frozen=True)
class NewKey:
    """A freshly made key: `token` is shown once; only the other fields are stored."""

    key_id: str
    salt: str
    secret_sha256: str
    token: str


def secret_digest(salt: str, secret: str) -> str:
    return hashlib.sha256((salt + secret).encode()).hexdigest()


def make_key() -> NewKey:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    return NewKey(key_id, salt, secret_digest(salt, secret), f"{PREFIX}_{key_id}_{secret}")


def split_token(token: str) -> tuple[str, str] | None:
    """(key_id, secret) of a well-formed token, else None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def secret_matches(salt: str, stored_digest: str, secret: str) -> bool:
    return hmac.compare_digest(secret_digest(salt, secret), stored_digest)


class RecentKeys:
    """Keys verified in the last `ttl` seconds (token digest -> (key_id, role)), so that
    frequent reads need not hit the database. Revoking through this service forgets at once;
    a key revoked from another process stops working within `ttl`."""

    def __init__(self, ttl: float = 10.0) -> None:
        self.ttl = ttl
        self._known: dict[str, tuple[str, str, float]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> tuple[str, str] | None:
        with self._lock:
            found = self._known.get(_token_digest(token))
        if found is None or found[2] < time.monotonic():
            return None
        return found[0], found[1]

    def put(self, token: str, key_id: str, role: str) -> None:
        with self._lock:
            if len(self._known) > 10_000:
                self._known.clear()
            self._known[_token_digest(token)] = (key_id, role, time.monotonic() + self.ttl)

    def forget(self, key_id: str) -> None:
        with self._lock:
            self._known = {digest: entry for digest, entry in self._known.items() if entry[0] != key_id}


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
