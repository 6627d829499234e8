"""Who may do what: roles, principals folded from their events, and the rules (DESIGN §10).

Pure functions, decided once here for every entry point (the HTTP API, imports through the
service, the pages). The local CLI is the operator's own tool and asks nothing of this module.

| role                | reads                                            | writes                              |
|---------------------|--------------------------------------------------|-------------------------------------|
| `admin`             | everything                                       | registry, catalog, principals, any  |
| `province:PP`       | records, history, views, reports of PP's LAOs    | records of PP's LAOs, imports       |
| `district:DDDD`     | records, history, reports of the district's LAOs | nothing (it reads, and chases)      |
| `lao:CODE`          | its own LAO's records and history                | its own LAO's records               |
| `auditor`           | everything, proofs, the feed                     | nothing                             |
| `integration[:PP]`  | the feed (of PP), schema, checkpoints, proofs    | nothing                             |
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Final, Literal, get_args

from ledger.domain.events import (
    Event,
    LinkIssued,
    PrincipalAdded,
    PrincipalRenamed,
    RoleGranted,
    RoleRevoked,
    TokenIssued,
    TokenRevoked,
)
from ledger.domain.values import parse_lao_code
from ledger.errors import BadInput, Forbidden

RoleKind = Literal["admin", "auditor", "integration", "province", "district", "lao"]
#: The forms a role is written in, for messages.
ROLE_FORMS: Final = "'admin', 'auditor', 'integration', 'integration:PP', 'province:PP', 'district:DDDD', 'lao:CODE'"
_NAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
_PROVINCE = re.compile(r"[0-9]{2}")
_DISTRICT = re.compile(r"[0-9]{4}")


@dataclass(frozen=True, order=True)
class Role:
    """Role is one grant: a kind and, for province, lao and integration, its scope."""

    kind: RoleKind
    scope: str | None = None

    def __str__(self) -> str:
        return self.kind if self.scope is None else f"{self.kind}:{self.scope}"


def parse_role(text: str) -> Role:
    """parse_role reads `admin`, `auditor`, `integration`, `integration:PP`, `province:PP` or
    `lao:CODE` (a 7-digit LAO code)."""
    kind, _, scope = text.strip().partition(":")
    if kind in ("admin", "auditor") and not scope:
        return Role(kind)  # type: ignore[arg-type]
    if kind == "integration" and not scope:
        return Role("integration")
    if kind in ("province", "integration") and _PROVINCE.fullmatch(scope):
        return Role(kind, scope)  # type: ignore[arg-type]
    if kind == "district" and _DISTRICT.fullmatch(scope):
        return Role("district", scope)
    if kind == "lao" and scope:
        try:
            return Role("lao", parse_lao_code(scope))
        except BadInput:
            pass
    raise BadInput(f"role {text!r} is not one of: {ROLE_FORMS} (PP: a 2-digit province code, DDDD: a district's 4)")


def check_principal_name(name: str) -> str:
    """check_principal_name accepts a principal's name, which is also the `actor` of its writes:
    lower-case ASCII letters, digits, `.`, `_`, `@` or `-`, 1 to 64, starting with a letter or a
    digit (a person's Thai name goes in the display name)."""
    if not _NAME.fullmatch(name):
        raise BadInput(
            f"principal name {name!r} must be 1 to 64 of a-z, 0-9, '.', '_', '@', '-', starting with a letter "
            "or digit (put a Thai name in --display-name)"
        )
    return name


@dataclass(frozen=True)
class TokenState:
    """TokenState is what the ledger knows of one token: never the token, never its hash."""

    token_id: str
    issued_at: datetime
    expires_at: datetime
    label: str | None = None
    revoked_at: datetime | None = None
    #: A sign-in link: exchanged once for a session (then revoked with that reason).
    one_time: bool = False

    def holds_at(self, at: datetime) -> bool:
        """holds_at says whether the token signs its holder in at `at`."""
        return self.revoked_at is None and at < self.expires_at


@dataclass(frozen=True)
class Principal:
    """Principal is a person or program as its events say at one time: its roles and tokens."""

    name: str
    added_at: datetime
    display_name: str | None = None
    roles: frozenset[Role] = frozenset()
    tokens: dict[str, TokenState] = field(default_factory=dict)

    # --- the rules ------------------------------------------------------------------------------

    def has(self, kind: RoleKind) -> bool:
        """has says whether the principal holds a role of this kind (any scope)."""
        return any(r.kind == kind for r in self.roles)

    @property
    def reads_everything(self) -> bool:
        """reads_everything: admin and auditor read every record, report and proof."""
        return self.has("admin") or self.has("auditor")

    def provinces(self, kind: RoleKind = "province") -> frozenset[str]:
        """provinces are the province codes of the principal's roles of this kind."""
        return frozenset(r.scope for r in self.roles if r.kind == kind and r.scope is not None)

    def districts(self) -> frozenset[str]:
        """districts are the district codes of the principal's `district:` roles."""
        return frozenset(r.scope for r in self.roles if r.kind == "district" and r.scope is not None)

    def laos(self) -> frozenset[str]:
        """laos are the LAO codes of the principal's `lao:` roles."""
        return frozenset(r.scope for r in self.roles if r.kind == "lao" and r.scope is not None)

    def may_write_record(self, lao_code: str, province_code: str | None) -> bool:
        """may_write_record: admin, the LAO's province office, or the LAO itself."""
        return (
            self.has("admin")
            or lao_code in self.laos()
            or (province_code is not None and province_code in self.provinces())
        )

    def may_read_record(self, lao_code: str, province_code: str | None, district_code: str | None = None) -> bool:
        """may_read_record: who may write it, the auditor, and the LAO's district officer."""
        return (
            self.reads_everything
            or self.may_write_record(lao_code, province_code)
            or (district_code is not None and district_code in self.districts())
        )

    def may_read_district(self, district_code: str, province_code: str | None) -> bool:
        """may_read_district: the reports of a district — its own officer, its province's, the
        auditor and the admin."""
        return (
            self.may_read_province(province_code) if province_code is not None else self.reads_everything
        ) or district_code in self.districts()

    def may_read_province(self, province_code: str) -> bool:
        """may_read_province: the views and reports of a whole province (or a district of it)."""
        return self.reads_everything or province_code in self.provinces()

    def may_read_nation(self) -> bool:
        """may_read_nation: views and reports over every LAO."""
        return self.reads_everything

    def feed_scope(self) -> tuple[bool, frozenset[str] | None]:
        """feed_scope is (may read the feed, the provinces it is limited to; None: all of it)."""
        if self.has("admin") or self.has("auditor") or Role("integration") in self.roles:
            return True, None
        provinces = self.provinces("integration")
        return bool(provinces), provinces or None

    def may_read_event(self, province_code: str | None) -> bool:
        """may_read_event: the content of one event of the log (a proof carries it whole) — the
        feed's rule: whoever follows the whole feed, or an integration of the event's province
        (an event of no province, such as a catalog change, only the former)."""
        allowed, provinces = self.feed_scope()
        if not allowed:
            return False
        return provinces is None or (province_code is not None and province_code in provinces)

    def may_read_proofs(self) -> bool:
        """may_read_proofs: checkpoints and proofs, for whoever checks the log."""
        return self.reads_everything or self.has("integration")

    def may_administer(self) -> bool:
        """may_administer: registry, catalog, principals, tokens, checkpoints."""
        return self.has("admin")


def fold_principal(events: Iterable[Event], known_at: datetime | None = None) -> Principal | None:
    """fold_principal is a principal as its events say (those recorded by `known_at`; None: all),
    or None when it had not been added."""
    found: Principal | None = None
    for event in events:
        if known_at is not None and event.recorded_at > known_at:
            break
        if isinstance(event, PrincipalAdded):
            found = Principal(
                name=event.name,
                added_at=event.recorded_at,
                display_name=event.display_name,
                roles=frozenset(parse_role(r) for r in event.roles),
            )
        elif found is None:
            continue
        elif isinstance(event, PrincipalRenamed):
            found = replace(found, display_name=event.display_name)
        elif isinstance(event, RoleGranted):
            found = replace(found, roles=found.roles | {parse_role(event.role)})
        elif isinstance(event, RoleRevoked):
            found = replace(found, roles=found.roles - {parse_role(event.role)})
        elif isinstance(event, (TokenIssued, LinkIssued)):
            token = TokenState(
                event.token_id, event.recorded_at, event.expires_at, event.label, one_time=isinstance(event, LinkIssued)
            )
            found = replace(found, tokens={**found.tokens, event.token_id: token})
        elif isinstance(event, TokenRevoked) and event.token_id in found.tokens:
            token = replace(found.tokens[event.token_id], revoked_at=event.recorded_at)
            found = replace(found, tokens={**found.tokens, event.token_id: token})
    return found


def readable_scope(
    principal: Principal,
    *,
    lao: str | None,
    district: str | None,
    province: str | None,
    province_of: Callable[[str, str], str | None],
) -> tuple[str | None, str | None, str | None]:
    """readable_scope is the scope (lao, district, province) a principal may read views and reports
    of: the one it asked, when its roles cover it, or — when it asked none and its roles name
    exactly one province, one district or one LAO — that one. Forbidden otherwise.
    `province_of(kind, code)` gives the province of an LAO (`lao`) or a district (`district`), and
    the district of an LAO (`lao-district`), None when unknown."""
    if principal.reads_everything:
        return lao, district, province
    if lao is not None:
        if principal.may_read_record(lao, province_of("lao", lao), province_of("lao-district", lao)):
            return lao, None, None
        raise Forbidden(f"{principal.name} may not read LAO {lao}")
    if district is not None:
        where = province_of("district", district)
        if where is not None and principal.may_read_district(district, where):
            return None, district, None
        raise Forbidden(f"{principal.name} may not read district {district}")
    if province is not None:
        if principal.may_read_province(province):
            return None, None, province
        raise Forbidden(f"{principal.name} may not read province {province}")
    provinces, districts, laos = principal.provinces(), principal.districts(), principal.laos()
    if len(provinces) == 1 and not laos and not districts:
        return None, None, next(iter(provinces))
    if len(districts) == 1 and not laos and not provinces:
        return None, next(iter(districts)), None
    if len(laos) == 1 and not provinces and not districts:
        return next(iter(laos)), None, None
    covered = ", ".join(sorted([
        *(f"province={p}" for p in provinces), *(f"district={d}" for d in districts), *(f"lao={x}" for x in laos)
    ])) or "none"  # fmt: skip
    raise Forbidden(f"{principal.name} may not read every LAO: give a scope its roles cover ({covered})")


#: Every operation whose permission is decided here, for every face (docs/design.md §10 has the
#: table a test checks these against, role by role).
Operation = Literal[
    "read_record",
    "write_record",
    "import",
    "read_province",
    "read_district",
    "read_nation",
    "read_feed",
    "read_event",
    "read_proofs",
    "sign_checkpoint",
    "load_registry",
    "load_catalog",
    "open_round",
    "manage_principals",
    "delegate",
    "manage_sessions",
]
OPERATIONS: Final[tuple[str, ...]] = get_args(Operation)
#: What each operation is called in a refusal ("khaokram.clerk may not load the registry").
_SAID: Final = {
    "read_record": "read records of LAO {lao}",
    "write_record": "write records of LAO {lao}",
    "import": "import (admin, province officers and LAO clerks)",
    "read_province": "read province {province}",
    "read_district": "read district {district}",
    "read_nation": "read the whole country",
    "read_feed": "follow the feed of {where}",
    "read_event": "read that event (outside its feed)",
    "read_proofs": "read checkpoints and proofs (admin, auditor, integration)",
    "sign_checkpoint": "sign checkpoints (admin only)",
    "load_registry": "load the registry (admin only)",
    "load_catalog": "load the catalog (admin only)",
    "open_round": "open a reporting round (admin only)",
    "manage_principals": "add principals, grant roles or issue tokens (admin only)",
    "delegate": "manage the accounts of {where} (its LAO clerks and district officers)",
    "manage_sessions": "see or end sessions (admin only)",
}


def permits(
    principal: Principal,
    operation: Operation,
    *,
    province: str | None = None,
    lao: str | None = None,
    district: str | None = None,
) -> bool:
    """permits says whether a principal may do an operation, on an LAO (and its province and
    district, as the registry has them), a district (and its province) or a province, where the
    operation has a scope. The one rule of who may do what."""
    if operation == "read_record":
        return lao is not None and principal.may_read_record(lao, province, district)
    if operation == "write_record":
        return lao is not None and principal.may_write_record(lao, province)
    if operation == "import":
        # Rows are checked one by one against write_record; starting an import needs a role that writes.
        return principal.may_administer() or bool(principal.provinces()) or bool(principal.laos())
    if operation == "read_province":
        return province is not None and principal.may_read_province(province)
    if operation == "read_district":
        return district is not None and principal.may_read_district(district, province)
    if operation == "read_nation":
        return principal.may_read_nation()
    if operation == "read_feed":
        allowed, provinces = principal.feed_scope()
        return allowed and (provinces is None or province in provinces)
    if operation == "read_event":
        return principal.may_read_event(province)
    if operation == "read_proofs":
        return principal.may_read_proofs()
    if operation == "delegate":
        # A province office keeps the accounts of its LAO clerks and district officers.
        return principal.may_administer() or (province is not None and province in principal.provinces())
    return principal.may_administer()


def authorize(
    principal: Principal | None,
    operation: Operation,
    *,
    province: str | None = None,
    lao: str | None = None,
    district: str | None = None,
) -> None:
    """authorize refuses (Forbidden, one line naming who and what) an operation the principal may
    not do; None is the operator at the server's own command line, who may do everything."""
    if principal is None or permits(principal, operation, province=province, lao=lao, district=district):
        return
    where = f"province {province}" if province else "the whole country"
    said = _SAID[operation].format(lao=lao, province=province, where=where, district=district)
    if operation in ("read_record", "write_record") and province:
        said += f" (province {province})"
    raise Forbidden(f"{principal.name} may not {said}")
