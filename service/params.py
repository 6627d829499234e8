"""Query parameters read as the CLI reads its options (ledger.domain.commands: BE or CE dates,
Thai digits and month names; a value that does not parse is a 400 naming the parameter), JSON
answers, and the scope a principal asks for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import msgspec
from litestar import Request, Response

from ledger.domain.access import Principal, readable_scope
from ledger.domain.commands import day as day
from ledger.domain.commands import instant as instant
from ledger.domain.commands import parsed as parsed
from ledger.domain.commands import whole as whole
from ledger.errors import BadInput, Unprocessable
from projections.completeness import province_of_scope
from projections.documents import plain
from projections.queries import Scope

_encoder = msgspec.json.Encoder()


def json_response(value: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> Response[bytes]:
    """json_response answers with the CLI's JSON of `value` (projections.documents.plain)."""
    return Response(
        _encoder.encode(plain(value)), status_code=status, media_type="application/json", headers=headers or {}
    )


#: The query parameters that may be given more than once (lists).
LISTS: Final = frozenset({"kind", "type", "witness"})


async def once_each(request: Request[Any, Any, Any]) -> None:
    """once_each refuses a query parameter given twice that takes one value (`?province=81&
    province=82`): which one counts would be a guess (the API router's before_request).

    A coroutine, though it awaits nothing: Litestar runs a plain function given as a hook on a
    worker thread, a hand-off that cost every API request more than the hook itself."""
    seen: set[str] = set()
    for name, _ in request.query_params.multi_items():
        if name in seen and name not in LISTS:
            raise BadInput(f"{name} is given more than once; give it once", field=name)
        seen.add(name)


def province_lookup(views: Any) -> Callable[[str, str], str | None]:
    """province_lookup gives the province of an LAO (`lao`) or a district (`district`), and the
    district of an LAO (`lao-district`), from the views' registry."""

    def province_of(kind: str, code: str) -> str | None:
        if kind == "lao-district":
            row = views.execute("SELECT district_code FROM laos WHERE lao_code = ? LIMIT 1", (code,)).fetchone()
            return str(row[0]) if row else None
        return province_of_scope(views, Scope(lao=code) if kind == "lao" else Scope(district=code))

    return province_of


def scope_for(principal: Principal, views: Any, lao: str | None, district: str | None, province: str | None) -> Scope:
    """scope_for is the scope the principal asked, refused (403) unless its roles cover it;
    with none asked, the one its roles name (a province officer: the province)."""
    if sum(x is not None and x != "" for x in (lao, district, province)) > 1:
        raise Unprocessable("give at most one of lao, district, province", field="lao")
    found = readable_scope(
        principal, lao=lao or None, district=district or None, province=province or None,
        province_of=province_lookup(views),
    )  # fmt: skip
    return Scope(lao=found[0], district=found[1], province=found[2])
