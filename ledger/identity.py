"""Identity: principals, their roles and tokens, and signing in (DESIGN §10).

Principals, grants, revocations and token issue/revoke are ledger events on the stream
`principal/<name>` (in the Merkle log, history and the feed), so who could do what is answerable
as of any time. A token is 256 random bits shown once to whoever issues it; the store keeps only
its SHA-256, under a public token id that events name. Signing in hashes the token, finds its id
and principal, and folds the principal's events as of now: an expired or revoked token, or one
whose event never came, signs nobody in.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from ledger.domain.access import Principal, Role, check_principal_name, fold_principal, parse_role
from ledger.domain.events import (
    Event,
    LinkIssued,
    PrincipalAdded,
    PrincipalRenamed,
    RoleGranted,
    RoleRevoked,
    TokenIssued,
    TokenRevoked,
    principal_id,
)
from ledger.domain.thai import format_instant
from ledger.domain.values import check_text
from ledger.errors import BadInput, Forbidden, NotFound, Refused, Unauthenticated
from ledger.store.mapper import Envelope

if TYPE_CHECKING:
    from ledger.application import MissionLedger, Receipt

#: How long a token holds when `--expires` is not given.
DEFAULT_TOKEN_DAYS: Final = 90
#: How long a sign-in link holds when `--expires` is not given: it is sent by mail or chat and
#: meant to be used soon.
DEFAULT_LINK_DAYS: Final = 3
#: How long a page session lasts after sign-in (a working day); sign-out ends it sooner.
SESSION_HOURS: Final = 12
#: A session's cookie secret and CSRF secret: 256 random bits each, URL-safe base64.
_SECRET_BYTES: Final = 32
#: A token as handed out: this prefix, then 256 random bits in URL-safe base64 (43 characters).
TOKEN_PREFIX: Final = "mlt_"
_TOKEN_LENGTH: Final = len(TOKEN_PREFIX) + 43


def token_hash(token: str) -> bytes:
    """token_hash is what the store keeps of a token: SHA-256 of its text."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def _secret() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(_SECRET_BYTES)).decode().rstrip("=")


@dataclass(frozen=True)
class Session:
    """Session is a signed-in page session: the cookie's secret (shown once, to the browser),
    its CSRF secret (in every form), who it signs in and until when."""

    secret: str
    csrf: str
    principal: Principal
    token_id: str
    expires_at: datetime


@dataclass(frozen=True)
class SessionInfo:
    """SessionInfo is what may be shown of an open session: a public id (the first 12 hex digits
    of its hash), who, with which token, from when to when. Never the cookie or CSRF secret."""

    session_id: str
    name: str
    token_id: str
    started_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class IssuedToken:
    """IssuedToken is a new token: shown once, never stored or logged as such."""

    token: str
    token_id: str
    name: str
    expires_at: datetime
    receipt: Receipt


class Identity:
    """Identity adds principals, grants and revokes roles, issues and revokes tokens, and signs
    a token's holder in, on one ledger."""

    def __init__(self, app: MissionLedger) -> None:
        self.app = app
        # token hash → (ledger size when read, principal, token id): a service signs the same
        # tokens in again and again; what they sign in changes only when the ledger grows.
        self._signed: dict[bytes, tuple[int, Principal, str]] = {}
        # principal name → (ledger size when read, the principal as folded then): page sessions.
        self._principals: dict[str, tuple[int, Principal | None]] = {}

    # --- reading --------------------------------------------------------------------------------

    def principal(self, name: str, known_at: datetime | None = None) -> Principal:
        """principal is a principal as its events say at `known_at` (None: now); NotFound else."""
        found = fold_principal(self._events(name), known_at)
        if found is None:
            raise NotFound(f"no principal {name!r}" + (f" at {format_instant(known_at)}" if known_at else ""))
        return found

    def principals(self, known_at: datetime | None = None) -> list[Principal]:
        """principals lists every principal as at `known_at` (None: now), by name."""
        names = [sid.split("/", 1)[1] for sid in self.app.ledger_recorder.stream_ids("principal/")]
        found = [fold_principal(self._events(n), known_at) for n in names]
        return sorted((p for p in found if p is not None), key=lambda p: p.name)

    def _events(self, name: str) -> list[Event]:
        return self.app.stream(principal_id(name))  # type: ignore[return-value]

    # --- principals and roles --------------------------------------------------------------------

    def add(self, name: str, roles: list[str], display_name: str | None = None) -> Receipt:
        """add enters a new principal with its roles; refused when the name is taken. An admin adds
        anyone; a province officer her LAOs' clerks and her districts' officers (delegate)."""
        name = check_principal_name(name)
        parsed = sorted({self._known(parse_role(r)) for r in roles}, key=str)
        self._may_manage(parsed, None)
        shown = check_text(display_name, what="display name") if display_name else None

        def decide(now: datetime) -> list[Envelope]:
            if self._events(name):
                raise Refused(f"principal {name!r} exists already (grant it roles with `principal grant`)")
            event = PrincipalAdded(
                name=name, roles=tuple(str(r) for r in parsed), display_name=shown, **self.app.meta(now, None)
            )
            return [Envelope(principal_id(name), 1, event)]

        return self.app.append(decide, conflict=f"principal {name!r} was added by someone else at the same time")

    def _known(self, role: Role) -> Role:
        """_known refuses a role that names a place there is none of: an LAO the registry does not
        have, a province that is none of the 77, a district outside them."""
        from ledger.domain.provinces import PROVINCES

        if role.kind == "lao" and role.scope is not None:
            self.app.lao(role.scope)  # NotFound, naming the closest codes
        elif role.kind in ("province", "integration") and role.scope is not None and role.scope not in PROVINCES:
            raise BadInput(f"role {role}: {role.scope} is no province's code (10 Bangkok … 96 Narathiwat)")
        elif role.kind == "district" and role.scope is not None and role.scope[:2] not in PROVINCES:
            raise BadInput(f"role {role}: {role.scope} is in no province (a district code starts with its province's)")
        return role

    def place_of(self, role: Role) -> str | None:
        """place_of is the province a delegable role lies in (an LAO's, by the registry; a district's, by its
        code); None for a role only an admin grants (admin, auditor, integration, province)."""
        if role.kind == "lao" and role.scope is not None:
            return self.app.lao(role.scope).province_code
        if role.kind == "district" and role.scope is not None:
            return role.scope[:2]
        return None

    def accounts_of(self, province: str) -> list[Principal]:
        """accounts_of lists the accounts a province office keeps: those whose roles are all LAO or
        district roles of the province. Refused unless the acting principal may manage them."""
        self.app.authorize("delegate", province=province)
        return [a for a in self.principals() if a.roles and {self.place_of(r) for r in a.roles} == {province}]

    def _may_manage(self, roles: Iterable[Role], target: str | None) -> None:
        """_may_manage refuses a change to accounts that the acting principal may not make: an
        admin (or the operator's own command line) manages every account; a province officer only
        accounts whose roles, before and after, are LAO and district roles of her own province —
        never admin, auditor or integration, never another province's, never anyone else's account."""
        acting = self.app.principal
        if acting is None or acting.may_administer():
            self.app.authorize("manage_principals")
            return
        held = fold_principal(self._events(target)) if target is not None else None
        places = {self.place_of(r) for r in (*roles, *(held.roles if held else ()))}
        if len(places) != 1 or None in places:
            raise Forbidden(
                f"{acting.name} may not manage principals beyond the LAO and district roles of her province"
            )
        self.app.authorize("delegate", province=places.pop())

    def grant(self, name: str, role: str) -> Receipt:
        """grant gives a principal one more role; refused when it holds it already."""
        parsed = self._known(parse_role(role))
        self._may_manage([parsed], name)
        return self._change(
            name,
            lambda p, meta: None if parsed in p.roles else RoleGranted(name=name, role=str(parsed), **meta),
            f"{name} holds role {parsed} already",
        )

    def revoke(self, name: str, role: str) -> Receipt:
        """revoke takes a role away; refused when the principal does not hold it."""
        parsed = parse_role(role)
        self._may_manage([parsed], name)
        return self._change(
            name,
            lambda p, meta: RoleRevoked(name=name, role=str(parsed), **meta) if parsed in p.roles else None,
            f"{name} does not hold role {parsed}",
        )

    def rename(self, name: str, display_name: str | None) -> Receipt:
        """rename changes the name people read for a principal (its own name never changes);
        refused when it is that already."""
        shown = check_text(display_name, what="display name") if display_name else None
        self._may_manage([], name)
        return self._change(
            name,
            lambda p, meta: (
                None if p.display_name == shown else PrincipalRenamed(name=name, display_name=shown, **meta)
            ),
            f"{name} is called {shown!r} already",
        )

    def disable(self, name: str, reason: str | None = None) -> Receipt:
        """disable closes an account at once: every role it holds and every token it has are
        revoked in one write, and the page sessions they opened end. History keeps what it held.
        A province officer disables her delegated accounts; an admin any."""
        self._may_manage([], name)
        now = self.app.clock.now()

        def decide(at: datetime) -> list[Envelope]:
            events = self._events(name)
            found = fold_principal(events)
            if found is None:
                raise NotFound(f"no principal {name!r}")
            meta = self.app.meta(at, reason)
            closing: list[Event] = [RoleRevoked(name=name, role=str(r), **meta) for r in sorted(found.roles, key=str)]
            closing += [
                TokenRevoked(name=name, token_id=t.token_id, **meta)
                for t in found.tokens.values()
                if t.revoked_at is None and t.expires_at > now
            ]
            if not closing:
                raise Refused(f"{name} holds no role and no token: the account is closed already")
            return [Envelope(principal_id(name), len(events) + 1 + i, e) for i, e in enumerate(closing)]

        receipt = self.app.append(decide, conflict=f"principal {name!r} was changed at the same time; disable again")
        for token_id in fold_principal(self._events(name)).tokens:  # type: ignore[union-attr]
            self.app.ledger_recorder.end_sessions(token_id=token_id)
        return receipt

    def _change(self, name: str, make: Callable[[Principal, dict[str, Any]], Event | None], unchanged: str) -> Receipt:
        def decide(now: datetime) -> list[Envelope]:
            events = self._events(name)
            found = fold_principal(events)
            if found is None:
                raise NotFound(f"no principal {name!r} (add it with `principal add`)")
            event = make(found, self.app.meta(now, None))
            if event is None:
                raise Refused(unchanged)
            return [Envelope(principal_id(name), len(events) + 1, event)]

        return self.app.append(decide, conflict=f"principal {name!r} was changed by someone else at the same time")

    # --- tokens ---------------------------------------------------------------------------------

    def issue(
        self, name: str, *, expires_at: datetime | None = None, label: str | None = None, one_time: bool = False
    ) -> IssuedToken:
        """issue makes a token for a principal: its hash goes into the store, then the
        `token_issued` event (without either) into the ledger; only then does it sign in.
        A `one_time` token is a sign-in link: the pages exchange it once for a session. A province
        officer hands her delegated accounts sign-in links, never long-lived tokens."""
        name = check_principal_name(name)
        if not one_time or fold_principal(self._events(name)) is None:
            self.app.authorize("manage_principals")
        self._may_manage([], name)
        label = check_text(label, what="label") if label else None
        now = self.app.clock.now()
        expires = expires_at or now + timedelta(days=DEFAULT_LINK_DAYS if one_time else DEFAULT_TOKEN_DAYS)
        if expires <= now:
            raise BadInput(f"--expires {format_instant(expires)} is not in the future")
        if fold_principal(self._events(name)) is None:
            raise NotFound(f"no principal {name!r} (add it with `principal add`)")
        token = TOKEN_PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        token_id = secrets.token_hex(6)
        self.app.ledger_recorder.save_token(token_hash(token), token_id, name)

        def decide(at: datetime) -> list[Envelope]:
            events = self._events(name)
            kind = LinkIssued if one_time else TokenIssued
            event = kind(name=name, token_id=token_id, expires_at=expires, label=label, **self.app.meta(at, None))
            return [Envelope(principal_id(name), len(events) + 1, event)]

        receipt = self.app.append(decide, conflict=f"principal {name!r} was changed at the same time; issue again")
        return IssuedToken(token, token_id, name, expires, receipt)

    def revoke_token(self, token_id: str) -> Receipt | None:
        """revoke_token ends a token, and every page session opened with it: the next request
        with either is refused. A sign-in link revokes itself when it is used; revoking it then
        ends the session it opened all the same and returns None (Refused when a revoked token
        had no session left to end)."""
        self.app.authorize("manage_principals")
        token_id = token_id.strip()
        try:
            return self._revoke(token_id, None)
        except Refused:
            if not any(s.token_id == token_id for s in self.sessions()):
                raise
            return None
        finally:
            # Revoked now or before: its sessions end now.
            self.app.ledger_recorder.end_sessions(token_id=token_id)

    def sessions(self, name: str | None = None) -> list[SessionInfo]:
        """sessions lists the open page sessions (of one principal), newest first: never a secret."""
        self.app.authorize("manage_sessions")
        now = self.app.clock.now()
        rows = self.app.ledger_recorder.sessions()
        found = [SessionInfo(*row) for row in rows if row[4] > now and (name is None or row[1] == name)]
        return sorted(found, key=lambda s: s.started_at, reverse=True)

    def end_sessions(self, *, session_id: str | None = None, name: str | None = None) -> int:
        """end_sessions ends one session (by the id `sessions` lists) or every session of a
        principal; returns how many ended. BadInput for neither or both, or an id `sessions`
        never prints; NotFound when there was none to end."""
        if (session_id is None) == (name is None):
            raise BadInput("give a session id (from `session list`) or --principal NAME")
        if session_id is not None and not re.fullmatch(r"[0-9a-f]{12}", session_id):
            raise BadInput(f"session id {session_id!r} is not one `session list` prints (12 hex digits)")
        ended = [s for s in self.sessions(name) if session_id is None or s.session_id == session_id]
        if not ended and session_id is not None:
            raise NotFound(f"no open session {session_id} (`session list` shows them)")
        if not ended:
            raise NotFound(f"{name} has no open session (`session list` shows them)")
        for found in ended:
            self.app.ledger_recorder.end_sessions(session_id=found.session_id)
        return len(ended)

    def _revoke(self, token_id: str, reason: str | None, app: MissionLedger | None = None) -> Receipt:
        app = app or self.app
        name = self.app.ledger_recorder.token_owner(token_id)
        if name is None:
            raise NotFound(f"no token {token_id!r} (`token list` shows the ids)")

        def decide(now: datetime) -> list[Envelope]:
            events = self._events(name)
            found = fold_principal(events)
            state = found.tokens.get(token_id) if found else None
            if state is None:
                raise NotFound(f"no token {token_id!r} (`token list` shows the ids)")
            if state.revoked_at is not None:
                raise Refused(f"token {token_id} was revoked already, at {format_instant(state.revoked_at)}")
            event = TokenRevoked(name=name, token_id=token_id, **app.meta(now, reason))
            return [Envelope(principal_id(name), len(events) + 1, event)]

        return app.append(decide, conflict=f"principal {name!r} was changed at the same time; revoke again")

    def sign_in(self, token: str | None) -> Principal:
        """sign_in is the principal a bearer token signs in now; Unauthenticated (one reason, never
        the token) when there is none, it is malformed, unknown, expired or revoked — or is a
        sign-in link's, which signs in once on the pages and nowhere else."""
        found, token_id = self._signed_in(token)
        if found.tokens[token_id].one_time:
            raise Unauthenticated("a sign-in link is not an API token: open it in a browser (`token issue` makes one)")
        return found

    def _signed_in(self, token: str | None) -> tuple[Principal, str]:
        if not token:
            raise Unauthenticated("no token: send Authorization: Bearer <token>")
        token = token.strip()
        if len(token) != _TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX) or not token.isascii():
            raise Unauthenticated("the token is not a mission-ledger token")
        hashed = token_hash(token)
        size = self.app.ledger_recorder.log_size()
        now = self.app.clock.now()
        cached = self._signed.get(hashed)
        if cached is not None and cached[0] == size:
            # Nothing was appended since: no revocation, no role changed. Expiry is a matter of time.
            _, found, token_id = cached
        else:
            holder = self.app.ledger_recorder.token_holder(hashed)
            if holder is None:
                raise Unauthenticated("unknown token")
            token_id, name = holder
            found = fold_principal(self._events(name))  # type: ignore[assignment]
            if len(self._signed) > 10_000:
                self._signed.clear()
            if found is not None:
                self._signed[hashed] = (size, found, token_id)
        state = found.tokens.get(token_id) if found else None
        if found is None or state is None:
            raise Unauthenticated("unknown token")
        if state.revoked_at is not None:
            if state.one_time:
                raise Unauthenticated("this sign-in link was used already: ask for a new one")
            raise Unauthenticated(f"token {token_id} was revoked")
        if not state.holds_at(now):
            raise Unauthenticated(f"token {token_id} expired at {format_instant(state.expires_at)}")
        return found, token_id

    # --- page sessions ----------------------------------------------------------------------------

    def start_session(self, token: str | None) -> Session:
        """start_session signs a token's holder in to the pages: a new session, kept by the
        store (hashed) so that every worker knows it and sign-out ends it. A sign-in link
        (one-time token) is revoked in the same step, appended as its holder: of two browsers
        racing with one link, one gets the session, the other a refusal."""
        found, token_id = self._signed_in(token)
        now = self.app.clock.now()
        state = found.tokens[token_id]
        if state.one_time:
            try:
                self._revoke(token_id, "sign-in link used", self.app.acting_as(found, source="http"))
            except Refused as e:  # revoked already, or another browser revoked it first (a conflict)
                raise Unauthenticated("this sign-in link was used already: ask for a new one") from e
            expires = now + timedelta(hours=SESSION_HOURS)
        else:
            expires = min(now + timedelta(hours=SESSION_HOURS), state.expires_at)
        secret, csrf = _secret(), _secret()
        self.app.ledger_recorder.save_session(token_hash(secret), found.name, token_id, csrf, now, expires)
        return Session(secret, csrf, found, token_id, expires)

    def session(self, secret: str | None) -> Session:
        """session is the open session a cookie's secret names, its principal as the ledger says
        now (a revoked role bites at once); Unauthenticated when it has ended or never was."""
        if not secret or len(secret) > 100 or not secret.isascii():
            raise Unauthenticated("not signed in")
        row = self.app.ledger_recorder.session(token_hash(secret))
        if row is None:
            raise Unauthenticated("not signed in")
        name, token_id, csrf, expires = row
        if expires <= self.app.clock.now():
            raise Unauthenticated("the session has ended: sign in again")
        found = self._principal_now(name)
        if found is None:
            raise Unauthenticated("not signed in")
        return Session(secret, csrf, found, token_id, expires)

    def end_session(self, secret: str) -> None:
        """end_session signs a session out: its cookie signs nobody in from now on."""
        self.app.ledger_recorder.end_sessions(session_hash=token_hash(secret))

    def _principal_now(self, name: str) -> Principal | None:
        size = self.app.ledger_recorder.log_size()
        cached = self._principals.get(name)
        if cached is not None and cached[0] == size:
            return cached[1]
        found = fold_principal(self._events(name))
        if len(self._principals) > 10_000:
            self._principals.clear()
        self._principals[name] = (size, found)
        return found
