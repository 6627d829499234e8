"""The bounds every value and every file the ledger accepts must keep (docs/limits.md lists them).

A bound is where a value stops being plausible for its field, or where a file stops being a
report and becomes a burden to read: refused quickly, in bounded memory, with one line that says
which bound and where. The same bounds will guard uploads to the service. Pure: no I/O.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Final

# --- files -------------------------------------------------------------------------------------

#: The largest import file on disk (CSV, JSON lines or XLSX): a national file of 2,000,000
#: records is about 300 MB as CSV.
MAX_FILE_BYTES: Final = 1 << 30
#: The largest import uploaded to the service (the whole request): a province's file is a few
#: megabytes; a national one is imported at the server with the CLI.
MAX_UPLOAD_BYTES: Final = 64 << 20
#: The most rows one import reads (the nation has about 0.5–2 million records).
MAX_ROWS: Final = 2_000_000
#: The longest cell, in characters (the longest field, a note, is far shorter).
MAX_CELL_CHARS: Final = 4096
#: The longest JSON line, in characters.
MAX_LINE_CHARS: Final = 64 * 1024
#: The deepest nesting of a JSON line (a record is one flat object).
MAX_JSON_DEPTH: Final = 4
#: XLSX is a zip: the most its parts may inflate to, together, and its shared strings (which
#: openpyxl holds in memory) alone; and the most a part may inflate relative to its size.
MAX_XLSX_INFLATED: Final = 2 << 30
MAX_XLSX_SHARED_STRINGS: Final = 128 << 20
MAX_XLSX_RATIO: Final = 200

# --- fields --------------------------------------------------------------------------------------

#: A budget in THB: the whole national budget is about 3.5 × 10^12; one mission of one LAO is far
#: below 10^11.
MAX_BUDGET: Final = Decimal("100000000000")
#: A quantity (km of road, number of centres, …).
MAX_QUANTITY: Final = Decimal("10000000")
#: Digits after the decimal point of a quantity.
MAX_QUANTITY_DECIMALS: Final = 4
#: Persons transferred with one mission.
MAX_STAFF: Final = 100_000
#: Characters of free text.
MAX_NOTE_CHARS: Final = 2000
MAX_REASON_CHARS: Final = 2000
MAX_UNIT_CHARS: Final = 100
MAX_ACTOR_CHARS: Final = 200
#: Names in the registry and catalog (LAOs, districts, provinces, missions, agencies).
MAX_NAME_CHARS: Final = 200
#: A search box's text (a code or a fragment of a name).
MAX_SEARCH_CHARS: Final = 200
#: Dates a record can hold from: transferred missions began with the Decentralization Act of
#: 2542 BE; before 1 January 2500 BE (1957) is a typing error, and so is a day decades ahead.
EARLIEST_EFFECTIVE: Final = date(1957, 1, 1)
LATEST_EFFECTIVE_YEARS_AHEAD: Final = 10
#: When the source system says an LAO reported: not before LAOs kept electronic records.
EARLIEST_REPORTED: Final = date(1990, 1, 1)
