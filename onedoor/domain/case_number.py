"""Case numbers: readable, unique, and the workflow id of the case (e.g. 139001-2026-000042)."""

import re

PATTERN = re.compile(r"^\d{6}-\d{4}-\d{6,}$")  # county code, year, sequence (also a JSON Schema pattern: no named groups)


def case_number(county_code: str, year: int, sequence: int) -> str:
    return f"{county_code}-{year:04d}-{sequence:06d}"


def is_case_number(text: str) -> bool:
    return PATTERN.match(text) is not None
