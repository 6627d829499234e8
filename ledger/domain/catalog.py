"""The catalog of missions: reading its CSV file, folding its events, and diffing a loaded
file against what the ledger holds. Pure: rows in, entries and events out; the application
does the I/O. Reloading the same file plans no event.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from typing import Final

from ledger.domain.events import LaoType, MissionAmended, MissionDefined, MissionFields
from ledger.domain.registry import check_name, differences, parse_lao_type, set_items
from ledger.domain.values import parse_mission_code
from ledger.errors import BadInput

#: The six areas of transferred missions (docs/design.md §1).
AREAS: Final = (
    "infrastructure",
    "quality_of_life",
    "order_and_safety",
    "planning_investment_commerce_tourism",
    "natural_resources_environment",
    "arts_culture_local_wisdom",
)
#: The areas' Thai names, as DLA's letters write them.
AREA_TH: Final = {
    "infrastructure": "ด้านโครงสร้างพื้นฐาน",
    "quality_of_life": "ด้านงานส่งเสริมคุณภาพชีวิต",
    "order_and_safety": "ด้านการจัดระเบียบชุมชน/สังคมและการรักษาความสงบเรียบร้อย",
    "planning_investment_commerce_tourism": "ด้านการวางแผน การส่งเสริมการลงทุน พาณิชยกรรมและการท่องเที่ยว",
    "natural_resources_environment": "ด้านการบริหารจัดการและการอนุรักษ์ทรัพยากรธรรมชาติและสิ่งแวดล้อม",
    "arts_culture_local_wisdom": "ด้านศิลปะ วัฒนธรรม จารีตประเพณี และภูมิปัญญาท้องถิ่น",
}
# The short forms officers write for each area (besides its code, its Thai name and ด้านที่ 1–6).
_AREA_SHORT: Final = {
    "infrastructure": ("โครงสร้างพื้นฐาน",),
    "quality_of_life": ("ส่งเสริมคุณภาพชีวิต", "คุณภาพชีวิต"),
    "order_and_safety": ("จัดระเบียบชุมชน", "ระเบียบชุมชน", "ความสงบเรียบร้อย", "รักษาความสงบเรียบร้อย"),
    "planning_investment_commerce_tourism": (
        "การวางแผน",
        "ส่งเสริมการลงทุน",
        "การลงทุน",
        "พาณิชยกรรมและการท่องเที่ยว",
        "การท่องเที่ยว",
    ),
    "natural_resources_environment": ("ทรัพยากรธรรมชาติและสิ่งแวดล้อม", "ทรัพยากรธรรมชาติ", "สิ่งแวดล้อม"),
    "arts_culture_local_wisdom": ("ศิลปวัฒนธรรม", "ศิลปะวัฒนธรรม", "วัฒนธรรม", "ภูมิปัญญาท้องถิ่น", "จารีตประเพณี"),
}


def _area_key(text: str) -> str:
    """The form area names are compared in: no spaces, lower case, no ด้าน / ที่ in front."""
    return "".join(text.split()).lower().replace("-", "_").removeprefix("ด้าน").removeprefix("ที่")


# Every form, also without a leading การ (officers write both การท่องเที่ยว and ท่องเที่ยว).
_AREA_OF: Final = {
    key: code
    for number, (code, name) in enumerate(AREA_TH.items(), start=1)
    for form in (code, code.replace("_", " "), name, str(number), *_AREA_SHORT[code])
    for key in (_area_key(form), _area_key(form).removeprefix("การ"))
}


def parse_area(text: str, *, where: str | None = None) -> str:
    """parse_area reads one of the six areas by its code, its Thai name, a short form officers use
    (โครงสร้างพื้นฐาน, คุณภาพชีวิต, …) or its number (ด้านที่ 1–6); returns the code."""
    key = _area_key(text)
    code = _AREA_OF.get(key) or _AREA_OF.get(key.removeprefix("การ"))
    if code is None:
        raise BadInput(
            f"{where + ': ' if where else ''}area {text!r} is not one of the six areas ({', '.join(AREAS)}; "
            f"or in Thai: {', '.join(AREA_TH.values())})"
        )
    return code


_CATALOG_COLUMNS: Final = ("mission_code", "name_th", "area", "source_agency", "unit", "applies_to")


@dataclass(frozen=True)
class Mission:
    """Mission is a catalog entry; empty applies_to means it applies to every LAO type."""

    mission_code: str
    name_th: str
    area: str
    source_agency: str
    unit: str | None = None
    applies_to: tuple[LaoType, ...] = ()

    def applies(self, lao_type: str) -> bool:
        """applies is true when an LAO of `lao_type` can hold this mission."""
        return applies(self.applies_to, lao_type)


def applies(applies_to: Iterable[str], lao_type: str) -> bool:
    """applies is the catalog's one rule of which LAOs a mission is for: the LAO types it names,
    or every type when it names none."""
    types = [t for t in applies_to if t]
    return not types or lao_type in types


def parse_catalog(rows: list[dict[str, str]], *, name: str) -> list[Mission]:
    """parse_catalog reads catalog rows (mission_code, name_th, area, source_agency, unit,
    applies_to with LAO types separated by '|')."""
    missing = [c for c in _CATALOG_COLUMNS if c not in rows[0]]
    if missing:
        raise BadInput(f"{name}: missing column(s) {', '.join(missing)}")
    out: dict[str, Mission] = {}
    for number, row in enumerate(rows, start=2):
        where = f"{name}, row {number}"
        try:
            code = parse_mission_code(row["mission_code"])
        except BadInput as e:
            raise BadInput(f"{where}: {e}") from e
        area = parse_area(row["area"], where=where)
        for column in ("name_th", "source_agency"):
            if not row[column]:
                raise BadInput(f"{where}: {column} is empty")
            check_name(row[column], f"{where}: {column}")
        if row["unit"]:
            check_name(row["unit"], f"{where}: unit")
        applies = tuple(parse_lao_type(t, where) for t in row["applies_to"].split("|") if t.strip())
        if code in out:
            raise BadInput(f"{where}: mission {code} appears twice in the file")
        out[code] = Mission(
            mission_code=code,
            name_th=row["name_th"],
            area=area,
            source_agency=row["source_agency"],
            unit=row["unit"] or None,
            applies_to=applies,
        )
    return list(out.values())


def fold_mission(events: Iterable[MissionDefined | MissionAmended]) -> Mission | None:
    """fold_mission gives a catalog entry from its events."""
    mission: Mission | None = None
    for event in events:
        if isinstance(event, MissionDefined):
            mission = Mission(
                mission_code=event.mission_code,
                name_th=event.name_th,
                area=event.area,
                source_agency=event.source_agency,
                unit=event.unit,
                applies_to=event.applies_to,
            )
        elif mission is not None:
            mission = replace(mission, **set_items(event.set))
    return mission


def plan_catalog(
    loaded: Iterable[Mission], current: Mapping[str, Mission], *, meta: Mapping[str, object]
) -> Iterator[MissionDefined | MissionAmended]:
    """plan_catalog yields the events that bring the catalog to the loaded entries."""
    for mission in loaded:
        old = current.get(mission.mission_code)
        if old is None:
            yield MissionDefined(
                **{f.name: getattr(mission, f.name) for f in fields(mission)},
                **meta,  # type: ignore[arg-type]
            )
            continue
        diff = differences(old, mission)
        if diff:
            yield MissionAmended(
                mission_code=mission.mission_code,
                set=MissionFields(**diff),  # type: ignore[arg-type]
                **meta,  # type: ignore[arg-type]
            )
