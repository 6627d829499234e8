"""A deterministic synthetic nation for the benchmarks: 77 provinces, LAOs in DLA's proportions
(76 PAO, 30 city, 195 town and 2,247 sub-district municipalities, 5,300 SAO), a catalog of 250
missions, records per LAO by type, and a mix of corrections, changes, cancellations and voids.

Everything comes from one seeded random generator: the same seed gives the same files.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

AREAS = (
    "infrastructure",
    "quality_of_life",
    "order_and_safety",
    "planning_investment_commerce_tourism",
    "natural_resources_environment",
    "arts_culture_local_wisdom",
)
LAO_COUNTS = {
    "pao": 76,
    "city_municipality": 30,
    "town_municipality": 195,
    "subdistrict_municipality": 2247,
    "sao": 5300,
}
TYPE_DIGIT = {
    "pao": "2",
    "city_municipality": "3",
    "town_municipality": "4",
    "subdistrict_municipality": "5",
    "sao": "6",
}
RECORDS_PER_LAO = {
    "pao": 60,
    "city_municipality": 120,
    "town_municipality": 90,
    "subdistrict_municipality": 70,
    "sao": 55,
}
PROVINCES = 77


@dataclass(frozen=True)
class Lao:
    code: str
    lao_type: str
    province: str
    district: str


def laos(seed: int = 2567) -> list[Lao]:
    """laos gives the nation's 7,848 LAOs, spread over 77 provinces of 6–12 districts."""
    rng = random.Random(seed)
    out: list[Lao] = []
    serial: dict[str, int] = {}
    for lao_type, count in LAO_COUNTS.items():
        for i in range(count):
            province = 10 + (i % PROVINCES) if lao_type != "pao" else 10 + i
            district = f"{province:02d}{1 + rng.randrange(8):02d}"
            serial[district] = serial.get(district, 0) + 1
            code = f"{TYPE_DIGIT[lao_type]}{district}{serial[district]:02d}"
            out.append(Lao(code, lao_type, f"{province:02d}", district))
    return out


def registry_csv(nation: list[Lao]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["lao_code", "lao_type", "name_th", "province_code", "province_th", "district_code", "district_th"])
    for lao in nation:
        writer.writerow(
            [
                lao.code,
                lao.lao_type,
                f"อปท.{lao.code}",
                lao.province,
                f"จังหวัด{lao.province}",
                lao.district,
                f"อำเภอ{lao.district}",
            ]
        )
    return buffer.getvalue().encode()


def catalog_csv(missions: int = 250) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["mission_code", "name_th", "area", "source_agency", "unit", "applies_to"])
    for i in range(missions):
        writer.writerow([f"M{i:03d}", f"ภารกิจที่ {i}", AREAS[i % 6], f"กรม{i % 40}", "แห่ง", ""])
    return buffer.getvalue().encode()


def records(nation: list[Lao], limit: int, seed: int = 2567, scale: float = 1.0) -> Iterator[dict[str, str]]:
    """records yields up to `limit` first reports, LAO by LAO, each LAO with its type's count
    (times `scale`, at most all 250 missions)."""
    rng = random.Random(seed)
    given = 0
    for lao in nation:
        for m in rng.sample(range(250), min(250, round(RECORDS_PER_LAO[lao.lao_type] * scale))):
            if given >= limit:
                return
            given += 1
            yield {
                "lao_code": lao.code,
                "mission_code": f"M{m:03d}",
                "status": "operating" if rng.random() < 0.8 else "not_yet",
                "received_fy": str(2543 + rng.randrange(25)),
                "quantity": str(rng.randrange(1, 500)),
                "unit": "แห่ง",
                "budget": f"{rng.randrange(0, 5_000_000)}.{rng.randrange(100):02d}",
                "staff": str(rng.randrange(0, 20)),
                "note": "",
                "effective_from": f"{2543 + rng.randrange(25)}-10-01",
            }


def write_csv(rows: Iterator[dict[str, str]], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        writer: csv.DictWriter[str] | None = None
        for row in rows:
            if writer is None:
                writer = csv.DictWriter(f, fieldnames=list(row))
                writer.writeheader()
            writer.writerow(row)
            count += 1
    return count


def write_jsonl(rows: Iterator[dict[str, str]], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def corrections(rows: list[dict[str, str]], fraction: float, seed: int = 9162) -> list[dict[str, str]]:
    """corrections gives a later round's file: a fraction of rows corrected, some cancelled."""
    rng = random.Random(seed)
    out = []
    for row in rows:
        if rng.random() < fraction:
            row = dict(row)
            if rng.random() < 0.1:
                row["status"] = "cancelled"
            else:
                row["quantity"] = str(int(row["quantity"]) + 1)
        out.append(row)
    return out
