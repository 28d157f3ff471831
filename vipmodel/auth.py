"""Who may do what: roles, the acting user, and the check every protected action makes.

Three roles, from the mall's documents (DOMAIN.md, "who may see what"): **viewer** (executives: every page, read
only, personal data masked), **marketing** (may save tier rules, satisfaction weights, care plans and margin
rates; sees member names, masked phones) and **admin** (imports data, regenerates the demo, manages users, sees
full personal data). The check lives here, below the pages, so a page that forgets it opens no hole: the
functions that change data or settings take the acting user and call :func:`require`.
"""

from __future__ import annotations

from dataclasses import dataclass

from vipmodel.schema import USER_ROLES

ROLES: tuple[str, ...] = USER_ROLES

# Action -> roles allowed to perform it.
PERMISSIONS: dict[str, frozenset[str]] = {
    "save_setting": frozenset({"marketing", "admin"}),
    "import": frozenset({"admin"}),
    "regenerate_demo": frozenset({"admin"}),
    "manage_users": frozenset({"admin"}),
    "view_audit": frozenset({"admin"}),
    "rollback_setting": frozenset({"marketing", "admin"}),
    "record_campaign": frozenset({"marketing", "admin"}),
}


class PermissionDenied(PermissionError):
    """The acting user's role may not perform the action (message: ``"role 'viewer' may not import data"``)."""


@dataclass(frozen=True)
class Actor:
    """The user on whose behalf an action runs.

    Attributes
    ----------
    username : str
        Recorded as the author of every change (never free text typed into a form).
    role : str
        One of :data:`ROLES`.
    """

    username: str
    role: str

    def __post_init__(self) -> None:
        if not isinstance(self.username, str) or not self.username.strip():
            raise ValueError("username must not be blank")
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}: expected one of {', '.join(ROLES)}")


# What the command line acts as: whoever can run it on the server already holds the database's credentials.
SYSTEM = Actor("system", "admin")

_ACTION_WORDS = {
    "save_setting": "save settings",
    "import": "import data",
    "regenerate_demo": "regenerate the demo mall",
    "manage_users": "manage users",
    "view_audit": "read the audit trail",
    "rollback_setting": "roll settings back",
    "record_campaign": "record campaigns",
}


def can(actor: Actor | None, action: str) -> bool:
    """True when ``actor`` may perform ``action`` (a key of :data:`PERMISSIONS`); None may do nothing."""
    if action not in PERMISSIONS:
        raise ValueError(f"unknown action {action!r}: expected one of {', '.join(PERMISSIONS)}")
    return actor is not None and actor.role in PERMISSIONS[action]


def require(actor: Actor | None, action: str) -> Actor:
    """Return ``actor`` when it may perform ``action``; raise :class:`PermissionDenied` otherwise."""
    if not isinstance(actor, Actor) and actor is not None:
        raise ValueError(f"actor must be an Actor, got {type(actor).__name__}")
    if not can(actor, action):
        who = "nobody signed in" if actor is None else f"role {actor.role!r}"
        raise PermissionDenied(f"{who} may not {_ACTION_WORDS[action]}")
    return actor
