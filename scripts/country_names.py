"""Write plivo_otp_app/data/country-names.json: the English name of every region phonenumbers supports.

Run after upgrading phonenumbers: `python scripts/country_names.py`. The app reads the
file instead of importing `phonenumbers.geocoder`, whose prefix data costs ~100 MiB per
process; tests/unit/test_phone.py checks the file still matches.
"""

from __future__ import annotations

import json
from pathlib import Path

import phonenumbers
from phonenumbers import geocoder

TARGET = Path(__file__).resolve().parents[1] / "plivo_otp_app" / "data" / "country-names.json"


def names() -> dict[str, str]:
    """Region code -> English name, as the geocoder gives it (the code where it gives none)."""
    found = {}
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        example = phonenumbers.example_number(region)
        found[region] = (geocoder.country_name_for_number(example, "en") if example else "") or region
    return found


if __name__ == "__main__":
    TARGET.write_text(json.dumps(names(), ensure_ascii=False, indent=0, sort_keys=True) + "\n", "utf-8")
    print(f"wrote {TARGET}")  # noqa: T201 - a command-line tool
