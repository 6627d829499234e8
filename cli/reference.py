"""Commands that find the reference data: LAOs and missions, by code or by Thai name."""

from __future__ import annotations

import click

from cli.base import Settings, cli, pass_settings
from cli.output import echo_json_lines_as_list, echo_table

LAO_HEADERS = ("lao_code", "name", "type", "district", "province")
MISSION_HEADERS = ("mission_code", "name", "area", "agency", "unit")


@cli.command()
@click.argument("query", required=False)
@click.option("--province", help="Only this province (2-digit code, e.g. 81).")
@click.option("--district", help="Only this district (4-digit code, e.g. 8101).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_settings
def laos(settings: Settings, query: str | None, province: str | None, district: str | None, as_json: bool) -> None:
    """Find LAOs by code or by a fragment of the Thai name (อบต.เขาคราม, ทต. คลองท่อม).

    Spaces and tone marks are forgiven; the list is in Thai dictionary order.

    Example: mission-ledger laos "อบต. คลองท่อม" --province 81
    """
    from ledger.domain.registry import LAO_TYPE_TH
    from projections.queries import find_laos

    app = settings.open()
    found = find_laos(settings.views_of(app).db, query, province=province, district=district)
    if as_json:
        echo_json_lines_as_list(found)
        return
    thai = settings.lang == "th"
    headers = (
        ("รหัส อปท.", "ชื่อ", "ประเภท", "อำเภอ", "จังหวัด") if thai else ("lao_code", "name", "type", "district", "province")
    )
    echo_table(
        headers,
        [
            (r["lao_code"], r["name_th"], LAO_TYPE_TH.get(r["lao_type"], r["lao_type"]) if thai else r["lao_type"],
             f"{r['district_code']} {r['district_th']}", f"{r['province_code']} {r['province_th']}")
            for r in found
        ],
    )  # fmt: skip
    click.echo(f"{len(found)} อปท." if thai else f"{len(found)} LAOs")


@cli.command()
@click.argument("query", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_settings
def missions(settings: Settings, query: str | None, as_json: bool) -> None:
    """Find missions by code or by a fragment of the Thai name or the agency (ถนน, ศูนย์พัฒนาเด็กเล็ก).

    Example: mission-ledger missions ศูนย์พัฒนาเด็ก
    """
    from ledger.domain.catalog import AREA_TH
    from projections.queries import find_missions

    app = settings.open()
    found = find_missions(settings.views_of(app).db, query)
    if as_json:
        echo_json_lines_as_list(found)
        return
    thai = settings.lang == "th"
    headers = (
        ("รหัสภารกิจ", "ชื่อ", "ด้าน", "หน่วยงาน", "หน่วยนับ") if thai else ("mission_code", "name", "area", "agency", "unit")
    )
    echo_table(
        headers,
        [
            (r["mission_code"], r["name_th"], AREA_TH.get(r["area"], r["area"]) if thai else r["area"],
             r["source_agency"], r["unit"])
            for r in found
        ],
    )  # fmt: skip
    click.echo(f"{len(found)} ภารกิจ" if thai else f"{len(found)} missions")
