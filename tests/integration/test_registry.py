"""Loading the LAO registry and the mission catalog from CSV files."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.application import MissionLedger
from ledger.domain.events import LaoAmended, MissionAmended
from ledger.errors import BadInput
from tests.conftest import package_data

KRABI = package_data("krabi_laos.csv")


def test_krabi_registry_loads_all_62_laos_and_reloading_appends_nothing(empty_ledger: MissionLedger) -> None:
    receipt, unchanged, _ = empty_ledger.load_registry(KRABI, name="krabi_laos.csv")
    assert (receipt.count, unchanged) == (62, 0)
    assert empty_ledger.lao("6810103").name_th == "องค์การบริหารส่วนตำบลเขาคราม"
    assert empty_ledger.lao("2810101").lao_type == "pao"
    again, unchanged, _ = empty_ledger.load_registry(KRABI, name="krabi_laos.csv")
    assert (again.count, unchanged) == (0, 62)
    assert empty_ledger.ledger_recorder.log_size() == 62


def test_names_repeat_within_a_district_only_the_code_identifies(empty_ledger: MissionLedger) -> None:
    empty_ledger.load_registry(KRABI, name="krabi_laos.csv")
    text = KRABI.decode()
    twins = [line.split(",")[0] for line in text.splitlines() if "คลองท่อมใต้" in line]
    assert len(twins) == 2
    assert {empty_ledger.lao(code).lao_type for code in twins} == {"subdistrict_municipality", "sao"}


def test_a_changed_file_appends_one_amendment_with_only_the_changed_fields(empty_ledger: MissionLedger, clock) -> None:
    empty_ledger.load_registry(KRABI, name="krabi_laos.csv")
    upgraded = (
        KRABI.decode()
        .replace(
            "6810103,sao,องค์การบริหารส่วนตำบล,องค์การบริหารส่วนตำบลเขาคราม",
            "6810103,subdistrict_municipality,เทศบาลตำบล,เทศบาลตำบลเขาคราม",
        )
        .encode()
    )
    clock.advance(days=30)
    receipt, unchanged, _ = empty_ledger.load_registry(upgraded, name="2568.csv", effective_from=date(2025, 1, 1))
    assert (receipt.count, unchanged) == (1, 61)
    amendment = empty_ledger.stream("lao/6810103")[-1]
    assert isinstance(amendment, LaoAmended)
    assert amendment.set.lao_type == "subdistrict_municipality" and amendment.set.name_th == "เทศบาลตำบลเขาคราม"
    assert amendment.effective_from == date(2025, 1, 1)
    # The code is kept: an upgraded LAO keeps its old code (docs/design.md §2).
    assert empty_ledger.lao("6810103").lao_type == "subdistrict_municipality"
    assert empty_ledger.lao("6810103", on=date(2024, 12, 31)).lao_type == "sao"


def test_dla_open_data_headers_are_read_and_codes_derived(empty_ledger: MissionLedger) -> None:
    dla = (
        "\ufeffรหัส อปท.,ประเภท อปท.,อปท.,จังหวัด,อำเภอ\n"
        "6810103,อบต.,องค์การบริหารส่วนตำบลเขาคราม,กระบี่,เมืองกระบี่\n"
        "5810109,เทศบาลตำบล,เทศบาลตำบลกระบี่น้อย,กระบี่,เมืองกระบี่\n"
    ).encode()
    receipt, _, _ = empty_ledger.load_registry(dla, name="dla.csv")
    assert receipt.count == 2
    lao = empty_ledger.lao("6810103")
    assert (lao.lao_type, lao.province_code, lao.district_code) == ("sao", "81", "8101")
    # The same LAOs loaded again in the Krabi format are already up to date.
    receipt, _, _ = empty_ledger.load_registry(KRABI, name="krabi_laos.csv")
    assert receipt.count == 60


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"lao_code,name_th\n6810103,x\n", "missing column(s) lao_type"),
        (
            "lao_code,lao_type,name_th,province_code,province_th,district_code,district_th\n"
            "68101,sao,x,81,กระบี่,8101,เมือง\n".encode(),
            "row 2: LAO code '68101'",
        ),
        (
            "lao_code,lao_type,name_th,province_code,province_th,district_code,district_th\n"
            "6810103,village,x,81,กระบี่,8101,เมือง\n".encode(),
            "row 2: lao_type 'village'",
        ),
        (
            "lao_code,lao_type,name_th,province_code,province_th,district_code,district_th\n"
            "6810103,sao,x,81,กระบี่,8101,เมือง\n6810103,sao,x,81,กระบี่,8101,เมือง\n".encode(),
            "row 3: LAO 6810103 appears twice",
        ),
        ("x\n".encode("utf-16"), "not UTF-8"),
    ],
)
def test_bad_registry_files_name_the_row_and_append_nothing(
    empty_ledger: MissionLedger, content: bytes, message: str
) -> None:
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        empty_ledger.load_registry(content, name="bad.csv")
    assert empty_ledger.ledger_recorder.log_size() == 0


def test_sample_catalog_loads_and_is_labelled_a_sample(empty_ledger: MissionLedger) -> None:
    receipt, _ = empty_ledger.load_catalog(package_data("sample_catalog.csv"), name="sample_catalog.csv")
    assert 25 <= receipt.count <= 35
    assert "illustrative sample" in package_data("README.md").decode()
    roads = empty_ledger.mission("INF-01")
    assert roads.area == "infrastructure" and roads.source_agency == "กรมทางหลวงชนบท"


def test_catalog_reload_amends_changed_missions_only(empty_ledger: MissionLedger) -> None:
    catalog = package_data("sample_catalog.csv")
    empty_ledger.load_catalog(catalog, name="c.csv")
    changed = catalog.decode().replace("ถนนทางหลวงชนบท (ถ่ายโอนสายทาง)", "ถนนทางหลวงชนบท").encode()
    receipt, _ = empty_ledger.load_catalog(changed, name="c2.csv")
    assert receipt.count == 1
    amendment = empty_ledger.stream("mission/INF-01")[-1]
    assert isinstance(amendment, MissionAmended) and amendment.set.name_th == "ถนนทางหลวงชนบท"


def test_bad_catalog_area_is_refused(empty_ledger: MissionLedger) -> None:
    bad = "mission_code,name_th,area,source_agency,unit,applies_to\nX-1,ถนน,roads,กรม,km,\n".encode()
    with pytest.raises(BadInput, match="row 2: area 'roads'"):
        empty_ledger.load_catalog(bad, name="c.csv")
