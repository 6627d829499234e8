"""What a person reads, in her language: the presentation layer every face asks — the command
line's tables, the pages, the XLSX a person opens, the error file — instead of formatting on its
own (issue 23: "one voice").

A `Voice` is a language, a calendar and a choice of digits. It words dates as Thai documents write
them (`1 ต.ค. 2567`), instants in Bangkok time to the minute (`30 ธ.ค. 2567 23:59 น.`), amounts
grouped (`1,250,000.50`), statuses, event kinds, LAO types, roles, sources and provinces as a
person says them, rounds as officers name them (ปีงบประมาณ 2568), and the text the system stored
for itself (an import's reason) in the reader's language — old events included.

What programs read is not here: JSON, CSV, the feed and the API are ISO 8601 CE in every language
(`projections.documents.plain`). Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from ledger.domain.provinces import province_name
from ledger.domain.thai import BANGKOK, BE_OFFSET, THAI_MONTHS, THAI_MONTHS_SHORT, fiscal_year_of, thai_numerals
from ledger.i18n import catalog, word

#: What a person reads where there is no value.
NOTHING: Final = "—"
#: The fields whose values are numbers a person reads grouped by thousands.
NUMBERS: Final = ("budget", "quantity", "staff")
#: Fields whose values are days (kept as ISO text by the views).
DATES: Final = ("effective_from", "valid_from", "valid_to", "period_from", "period_to")
#: Fields whose values are words of the catalog (a status, an event kind, …).
WORDS: Final = ("status", "kind", "state", "verdict")
_MONTHS_EN: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS_EN_FULL: Final = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
#: LAO types as a person names them (Thai: the abbreviations of DLA's letters).
LAO_TYPES: Final = {
    "pao": ("อบจ.", "provincial administrative organization"),
    "city_municipality": ("เทศบาลนคร", "city municipality"),
    "town_municipality": ("เทศบาลเมือง", "town municipality"),
    "subdistrict_municipality": ("เทศบาลตำบล", "subdistrict municipality"),
    "sao": ("อบต.", "subdistrict administrative organization"),
    "special": ("อปท. รูปแบบพิเศษ", "special-form LAO"),
}
#: Roles as a person names them; `{where}` is the province or LAO the role is bound to.
ROLES: Final = {
    "admin": ("ผู้ดูแลระบบ", "administrator"),
    "auditor": ("ผู้ตรวจสอบ", "auditor"),
    "integration": ("ระบบที่เชื่อมต่อ (ทั้งประเทศ)", "integration (the whole country)"),
    "integration:": ("ระบบที่เชื่อมต่อ {where}", "integration, {where}"),
    "province:": ("เจ้าหน้าที่{where}", "officer of {where}"),
    "district:": ("เจ้าหน้าที่อำเภอ {where}", "officer of district {where}"),
    "lao:": ("เจ้าหน้าที่ อปท. {where}", "officer of LAO {where}"),
}
#: How a record's event came in.
SOURCES: Final = {
    "cli": ("บรรทัดคำสั่ง", "command line"),
    "http": ("ระบบออนไลน์", "online"),
    "demo": ("ตัวอย่างสาธิต", "demonstration"),
}
# The reason an import stores on each of its events (ledger.imports.batch): worded when shown.
_IMPORT_REASON: Final = re.compile(r"import of (?P<name>.*) \(batch (?P<batch>[0-9a-f]+)\)", re.DOTALL)
# An ISO date or instant in a message, not inside quotes.
_ISO: Final = re.compile(
    r"(?<![\w'\-])(?P<year>\d{4})-\d{2}-\d{2}"
    r"(?P<clock>T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?(?![\w'\-])"
)
# A round named as its fiscal year already (2568, fy2568, FY-2568): nothing to add to the words.
_FY_NAME: Final = re.compile(r"(?:fy|FY)?[-_ ]?(\d{4})")


@dataclass(frozen=True)
class Voice:
    """Voice is how one reader is spoken to: her language ("th", "en"), the calendar of her years
    ("be", "ce"; Thai is BE unless CE is asked for) and whether digits are Thai."""

    lang: str = "en"
    calendar: str = "ce"
    thai_digits: bool = False

    # --- messages ---------------------------------------------------------------------------

    def __call__(self, text: str, **values: Any) -> str:
        """A message in the reader's language (the catalog), {placeholders} filled first."""
        english = text.format(**values) if values else text
        found = catalog(self.lang)
        if found is None:
            return self.digits(english)
        return self.digits(self._dates_worded(found.translate(english)))

    def _dates_worded(self, text: str) -> str:
        """The library's messages carry dates and instants as ISO CE (they are also what logs and
        problem details say); a reader in another language reads them in her own words. A date
        inside quotes is what somebody typed, and stays as typed."""

        def worded(m: re.Match[str]) -> str:
            if not 1900 <= int(m["year"]) < 2400:  # a BE year written as ISO: somebody's text
                return m[0]
            try:
                if m["clock"] is None:
                    return self.day(date.fromisoformat(m[0]))
                instant = datetime.fromisoformat(m[0].replace("Z", "+00:00"))
            except ValueError:
                return m[0]
            return self.when(instant if instant.tzinfo else instant.replace(tzinfo=BANGKOK))

        return _ISO.sub(worded, text)

    def word(self, text: str) -> str:
        """One word or label (a header, a status): exact catalog entries only."""
        return text if self.lang == "en" else word(text, self.lang)

    def digits(self, text: str) -> str:
        """digits writes text's digits as Thai digits when the reader asked for them."""
        return thai_numerals(text) if self.thai_digits else text

    @property
    def thai(self) -> bool:
        return self.lang == "th"

    def _pick(self, pair: tuple[str, str]) -> str:
        return pair[0] if self.thai else pair[1]

    # --- dates, instants, numbers -------------------------------------------------------------

    def day(self, value: date | str | None, *, full: bool = False) -> str:
        """A date: `1 ต.ค. 2567` (Thai), `1 Oct 2024` (English), `1 Oct 2567 BE` (English, BE)."""
        if value is None or value == "":
            return NOTHING
        if isinstance(value, datetime):
            value = value.astimezone(BANGKOK).date()
        elif isinstance(value, str):
            value = date.fromisoformat(value[:10])
        if self.thai:
            month = (THAI_MONTHS if full else THAI_MONTHS_SHORT)[value.month - 1]
            year = f"{value.year + BE_OFFSET}" if self.calendar != "ce" else f"ค.ศ. {value.year}"
            return self.digits(f"{value.day} {month} {year}")
        month = (_MONTHS_EN_FULL if full else _MONTHS_EN)[value.month - 1]
        if self.calendar == "be":
            return self.digits(f"{value.day} {month} {value.year + BE_OFFSET} BE")
        return self.digits(f"{value.day} {month} {value.year}")

    def when(self, value: datetime | str | None, *, seconds: bool = False) -> str:
        """An instant in Bangkok time, to the minute unless seconds are asked for:
        `30 ธ.ค. 2567 23:59 น.`, `30 Dec 2024 23:59`."""
        if value is None or value == "":
            return NOTHING
        if isinstance(value, str):
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        local = value.astimezone(BANGKOK)
        clock = f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"
        if self.thai:
            return self.digits(f"{self.day(local.date())} {clock} น.")
        return self.digits(f"{self.day(local.date())} {clock}")

    def number(self, value: Any) -> str:
        """A number grouped by thousands (1,250,000.50)."""
        if value is None or value == "":
            return NOTHING
        if isinstance(value, bool):
            return self.yes_no(value)
        if isinstance(value, (int, Decimal)):
            return self.digits(f"{value:,}")
        try:
            return self.digits(f"{Decimal(str(value)):,}")
        except ArithmeticError:
            return str(value)

    def yes_no(self, value: bool) -> str:
        return self._pick(("ใช่", "yes") if value else ("ไม่ใช่", "no"))

    # --- the ledger's words -------------------------------------------------------------------

    def lao_type(self, value: str) -> str:
        """An LAO type as a person names it: อบต., เทศบาลตำบล."""
        found = LAO_TYPES.get(value)
        return self._pick(found) if found else value

    def province(self, code: str | None) -> str:
        """A province by its name: จังหวัดกระบี่ (Krabi province); a code no province has, as is."""
        if code is None:
            return self._pick(("ทั้งประเทศ", "the whole country"))
        name = province_name(code, self.lang)
        if name is None:
            return self._pick((f"จังหวัด {code}", f"province {code}"))
        if code == "10":  # Bangkok is no จังหวัด
            return name
        return f"จังหวัด{name}" if self.thai else f"{name} province"

    def role(self, role: str, lao_name: str | None = None) -> str:
        """A role as a person names it: `province:81` is เจ้าหน้าที่จังหวัดกระบี่, `lao:6810103`
        (given the LAO's name) เจ้าหน้าที่องค์การบริหารส่วนตำบลเขาคราม (6810103)."""
        kind, _, where = role.partition(":")
        if not where:
            found = ROLES.get(kind)
            return self._pick(found) if found else role
        pattern = ROLES.get(f"{kind}:")
        if pattern is None:
            return role
        place = self.province(where) if kind in ("province", "integration") else where
        if kind == "lao" and lao_name:  # the name says what kind of LAO it is
            return self._pick((f"เจ้าหน้าที่{lao_name} ({where})", f"officer of {lao_name} ({where})"))
        return self._pick(pattern).format(where=place)

    def source(self, source: str) -> str:
        """How an event came in: บรรทัดคำสั่ง, ระบบออนไลน์, นำเข้าไฟล์ (ชุด 3f9c2a71)."""
        if source.startswith("import:"):
            batch = source.removeprefix("import:")[:8]
            return self._pick((f"นำเข้าไฟล์ (ชุด {batch})", f"import (batch {batch})"))
        found = SOURCES.get(source)
        return self._pick(found) if found else source

    def reason(self, text: str | None) -> str:
        """A reason as stored: what a person typed stays as typed; what the system wrote for
        itself (an import's) is worded in the reader's language."""
        if not text:
            return NOTHING
        m = _IMPORT_REASON.fullmatch(text)
        if m is not None:
            name, batch = m["name"], m["batch"][:8]
            return self._pick((f"นำเข้าจากไฟล์ {name} (ชุด {batch})", f"import of {name} (batch {batch})"))
        return text

    def fiscal_year(self, day: date) -> str:
        """The Thai fiscal year a date falls in: ปีงบประมาณ 2568 (1 ต.ค. 2567 – 30 ก.ย. 2568)."""
        fy = fiscal_year_of(day)
        if self.thai:
            return self.digits(f"ปีงบประมาณ {fy}")
        return self.digits(f"fiscal year {fy} BE" if self.calendar == "be" else f"fiscal year {fy - BE_OFFSET}")

    def round(self, name: str, start: date) -> str:
        """A reporting round as officers name it: by its fiscal year (the round from 1 ต.ค. 2567
        is ปีงบประมาณ 2568), with the name it was opened under when that says more."""
        named = self.fiscal_year(start)
        m = _FY_NAME.fullmatch(name)
        if m is not None and self.digits(m[1]) in named:  # the name is the year the words give
            return named
        return f"{named} ({name})"

    def events(self, kind: str, count: int) -> str:
        """A count of events of one kind: `บันทึก 3 รายการ`, `3 recorded`."""
        if self.thai:
            return self.digits(f"{self.word(kind)} {count:,} รายการ")
        return self.digits(f"{count:,} {kind}")

    def area(self, code: str) -> str:
        """One of the catalog's six areas as DLA's letters name it (ด้านโครงสร้างพื้นฐาน)."""
        from ledger.domain.catalog import AREA_TH

        if self.thai:
            return AREA_TH.get(code, code)
        return code.replace("_", " ")

    def label(self, field: str) -> str:
        """A record field's name as a person reads it (a column, a form label)."""
        return self.word(field)

    def value(self, field: str, value: Any) -> str:
        """One field's value in the reader's words (`field` "" for a value of no field)."""
        if field in ("province", "province_code") and not value:
            return self.province(None)
        if value is None or value == "":
            return NOTHING
        if isinstance(value, bool):
            return self.yes_no(value)
        if isinstance(value, datetime):
            return self.when(value)
        if isinstance(value, date):
            return self.day(value)
        if isinstance(value, (list, tuple)):
            return ", ".join(self.value(field, v) for v in value) or NOTHING
        if field == "received_fy" or field.endswith("year"):
            return self.digits(str(value))  # a year is no amount: 2567, not 2,567
        if field in NUMBERS or isinstance(value, Decimal):
            return self.number(value)
        if field in WORDS:
            return self.word(str(value))
        if field == "role":
            return self.role(str(value))
        if field in ("province", "province_code"):
            return self.province(str(value))
        if field == "lao_type":
            return self.lao_type(str(value))
        if field == "source":
            return self.source(str(value))
        if field == "reason":
            return self.reason(str(value))
        if field in DATES or field.endswith("_on"):
            try:
                return self.day(str(value))
            except ValueError:
                return str(value)
        if isinstance(value, int):
            return self.number(value)
        return str(value)
