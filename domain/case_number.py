"""Case numbers: readable, unique, and the workflow id of the case (e.g. 139001-2026-000042)."""

import re

PATTERN = re.compile(r"^(?P<county>\d{6})-(?P<year>\d{4})-(?P<seq>\d{6,})$")


def case_number(county_code: str, year: int, sequence: int) -> str:
    return f"{county_code}-{year:04d}-{sequence:06d}"


def is_case_number(text: str) -> bool:
    return PATTERN.match(text) is not None
