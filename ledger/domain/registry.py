"""The registry of LAOs: reading its CSV files (the Krabi file's columns or DLA's open data),
folding its events, and diffing a loaded file against what the ledger holds.

Reading and diffing are pure (rows in, entries and events out); the application does the I/O.
Reloading the same file plans no event; a changed file plans one amendment per changed entry.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any, Final

from msgspec import UNSET

from ledger.domain.events import (
    LAO_TYPES,
    LaoAmended,
    LaoFields,
    LaoRegistered,
    LaoType,
    MissionFields,
)
from ledger.domain.limits import MAX_NAME_CHARS
from ledger.domain.thai import arabic_digits
from ledger.domain.values import check_text, parse_lao_code
from ledger.errors import BadInput

# Thai names and abbreviations of LAO types, as DLA writes them.
_LAO_TYPE_WORDS: Final = {
    "องค์การบริหารส่วนจังหวัด": "pao",
    "อบจ.": "pao",
    "เทศบาลนคร": "city_municipality",
    "ทน.": "city_municipality",
    "เทศบาลเมือง": "town_municipality",
    "ทม.": "town_municipality",
    "เทศบาลตำบล": "subdistrict_municipality",
    "ทต.": "subdistrict_municipality",
    "องค์การบริหารส่วนตำบล": "sao",
    "อบต.": "sao",
    "กรุงเทพมหานคร": "special",
    "เมืองพัทยา": "special",
    "องค์กรปกครองส่วนท้องถิ่นรูปแบบพิเศษ": "special",
}
LAO_TYPE_TH: Final = {
    "pao": "องค์การบริหารส่วนจังหวัด",
    "city_municipality": "เทศบาลนคร",
    "town_municipality": "เทศบาลเมือง",
    "subdistrict_municipality": "เทศบาลตำบล",
    "sao": "องค์การบริหารส่วนตำบล",
    "special": "รูปแบบพิเศษ",
}

_REGISTRY_COLUMNS: Final = (
    "lao_code",
    "lao_type",
    "name_th",
    "province_code",
    "province_th",
    "district_code",
    "district_th",
)
# DLA's open-data headers carry names, not codes, for province and district.
_DLA_COLUMNS: Final = {
    "รหัส อปท.": "lao_code",
    "ประเภท อปท.": "lao_type",
    "อปท.": "name_th",
    "จังหวัด": "province_th",
    "อำเภอ": "district_th",
}


@dataclass(frozen=True)
class Lao:
    """Lao is an LAO's registry entry. `lao_code` is an opaque key: only it identifies."""

    lao_code: str
    lao_type: LaoType
    name_th: str
    province_code: str
    province_th: str
    district_code: str
    district_th: str


# --- reading files -------------------------------------------------------------------------------


def read_csv_text(data: bytes, *, name: str) -> list[dict[str, str]]:
    """read_csv_text decodes a UTF-8 CSV (with or without BOM) into rows keyed by header."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadInput(f"{name}: not UTF-8 text (byte {e.start}); save the file as CSV UTF-8") from e
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise BadInput(f"{name}: the file is empty (no header row)")
    rows = []
    for row in reader:
        if None in row:
            raise BadInput(f"{name}, row {reader.line_num}: more cells than header columns")
        if any(v is None for v in row.values()):
            got = sum(v is not None for v in row.values())
            raise BadInput(f"{name}, row {reader.line_num}: {got} cells where the header has {len(row)}")
        rows.append({k.strip(): (v or "").strip() for k, v in row.items()})
    if not rows:
        raise BadInput(f"{name}: no rows under the header")
    return rows


def parse_lao_type(text: str, where: str) -> LaoType:
    """parse_lao_type reads an LAO type by its code or its Thai name or abbreviation."""
    word = text.strip()
    if word in LAO_TYPES:
        return word  # type: ignore[return-value]
    if word in _LAO_TYPE_WORDS:
        return _LAO_TYPE_WORDS[word]  # type: ignore[return-value]
    raise BadInput(f"{where}: lao_type {text!r} is not an LAO type ({', '.join(LAO_TYPES)})")


def check_name(text: str, what: str) -> None:
    """check_name accepts a registry or catalog name: one line of plain text, MAX_NAME_CHARS at most."""
    check_text(text, what=what, limit=MAX_NAME_CHARS)


def parse_registry(rows: list[dict[str, str]], *, name: str) -> list[Lao]:
    """parse_registry reads registry rows in the Krabi file's format or DLA's open-data format.

    DLA's format names province and district but gives no codes; they are read from the LAO
    code (digits 2–3 province, 2–5 district), which is how DLA numbers them.
    """
    header = set(rows[0])
    if set(_DLA_COLUMNS) <= header:
        rows = [{_DLA_COLUMNS.get(k, k): v for k, v in r.items()} for r in rows]
        derive_codes = True
    else:
        missing = [c for c in _REGISTRY_COLUMNS if c not in header]
        if missing:
            raise BadInput(
                f"{name}: missing column(s) {', '.join(missing)} (expected the columns of "
                f"krabi_laos.csv or DLA's: {', '.join(_DLA_COLUMNS)})"
            )
        derive_codes = False
    out: dict[str, Lao] = {}
    for number, row in enumerate(rows, start=2):
        where = f"{name}, row {number}"
        try:
            code = parse_lao_code(row["lao_code"])
        except BadInput as e:
            raise BadInput(f"{where}: {e}") from e
        province_code = code[1:3] if derive_codes else arabic_digits(row["province_code"])
        district_code = code[1:5] if derive_codes else arabic_digits(row["district_code"])
        if not (province_code.isdigit() and len(province_code) == 2):
            raise BadInput(f"{where}: province_code {province_code!r} is not 2 digits")
        if not (district_code.isdigit() and len(district_code) == 4):
            raise BadInput(f"{where}: district_code {district_code!r} is not 4 digits")
        for column in ("name_th", "province_th", "district_th"):
            if not row.get(column):
                raise BadInput(f"{where}: {column} is empty")
            check_name(row[column], f"{where}: {column}")
        if code in out:
            raise BadInput(f"{where}: LAO {code} appears twice in the file")
        out[code] = Lao(
            lao_code=code,
            lao_type=parse_lao_type(row["lao_type"], where),
            name_th=row["name_th"],
            province_code=province_code,
            province_th=row["province_th"],
            district_code=district_code,
            district_th=row["district_th"],
        )
    return list(out.values())


# --- folding registry and catalog events ---------------------------------------------------------


def fold_lao(events: Iterable[LaoRegistered | LaoAmended], on: date | None = None) -> Lao | None:
    """fold_lao gives an LAO's entry from its events; with `on`, as valid on that date."""
    lao: Lao | None = None
    for event in events:
        if isinstance(event, LaoRegistered):
            lao = Lao(
                lao_code=event.lao_code,
                lao_type=event.lao_type,
                name_th=event.name_th,
                province_code=event.province_code,
                province_th=event.province_th,
                district_code=event.district_code,
                district_th=event.district_th,
            )
        elif lao is not None and (on is None or event.effective_from <= on):
            lao = replace(lao, **set_items(event.set))
    return lao


def set_items(patch: LaoFields | MissionFields) -> dict[str, Any]:
    """set_items is an amendment's fields that are set, by name."""
    return {f: getattr(patch, f) for f in patch.__struct_fields__ if getattr(patch, f) is not UNSET}


# --- planning events from a loaded file ----------------------------------------------------------


def differences(old: object, new: object) -> dict[str, object]:
    """differences is the fields (of two entries of one dataclass) whose values differ, new values."""
    return {
        f.name: getattr(new, f.name)
        for f in fields(old)  # type: ignore[arg-type]
        if getattr(old, f.name) != getattr(new, f.name)
    }


def plan_registry(
    loaded: Iterable[Lao],
    current: Mapping[str, Lao],
    *,
    effective_from: date,
    meta: Mapping[str, object],
) -> Iterator[LaoRegistered | LaoAmended]:
    """plan_registry yields the events that bring the registry to the loaded entries: a new
    LAO is registered, a changed one amended (only its changed fields), an equal one skipped.
    LAOs absent from the file are left as they are: a file may cover one province only."""
    for lao in loaded:
        old = current.get(lao.lao_code)
        if old is None:
            yield LaoRegistered(
                **{f.name: getattr(lao, f.name) for f in fields(lao)},
                effective_from=effective_from,
                **meta,  # type: ignore[arg-type]
            )
            continue
        diff = differences(old, lao)
        if diff:
            yield LaoAmended(
                lao_code=lao.lao_code,
                set=LaoFields(**diff),  # type: ignore[arg-type]
                effective_from=effective_from,
                **meta,  # type: ignore[arg-type]
            )
