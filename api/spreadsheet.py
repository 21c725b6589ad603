"""Lists as files for Excel: the rows a JSON route answers, as CSV (UTF-8 with a BOM) or as an .xlsx workbook.

A route asks for a file with `format=csv|xlsx` or the Accept header, and hands its rows and columns
here; it has read them with the same dependencies (role, jurisdiction) as its JSON answer, so a file
never holds more than that answer does. One column list serves both files: the CSV's headers carry
the English term beside the Chinese (programs key on them), the workbook's are Chinese only, with
typed cells — codes always text (a 12-digit village code would otherwise show as 1.39001E+11),
counts as numbers, times as Beijing date-times.
"""

import csv
import io
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import xlsxwriter
from fastapi import Request, Response

from onedoor.domain.timezone import as_shanghai

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Format = Literal["json", "csv", "xlsx"]
Cell = str | int | float | date | datetime | None
FORMAT_HELP = "csv: 导出 CSV（UTF-8 带 BOM）；xlsx: 导出 Excel 工作簿（also Accept: text/csv or " + XLSX + "）"
FILE_CONTENT = {
    "text/csv": {"schema": {"type": "string"}},
    XLSX: {"schema": {"type": "string", "format": "binary"}},
}


@dataclass(frozen=True)
class Column:
    header: str  # 中文, as the sheet's reader reads it
    term: str  # English, beside the Chinese in the CSV's header
    value: Callable[[Any], Cell]
    kind: Literal["text", "number", "time", "date"] = "text"


def wanted(request: Request, asked: Format) -> Format:
    """The format asked for: the query's, else the Accept header's, else JSON."""
    accept = request.headers.get("accept", "")
    if asked != "json":
        return asked
    return "xlsx" if XLSX in accept else "csv" if "text/csv" in accept else "json"


def export(output: Literal["csv", "xlsx"], filename: str, sheet: str, columns: Sequence[Column], rows: Sequence) -> Response:
    """The rows as a file to download, named `filename` plus the format's extension."""
    table = [[column.value(row) for column in columns] for row in rows]
    if output == "csv":
        content, media_type = csv_bytes(columns, table), "text/csv; charset=utf-8"
    else:
        content, media_type = xlsx_bytes(sheet, columns, table), XLSX
    return Response(content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}.{output}"'})


def as_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return as_shanghai(value).strftime("%Y-%m-%d %H:%M")
    return str(value)


def csv_bytes(columns: Sequence[Column], table: list[list[Cell]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(f"{column.header} {column.term}" for column in columns)
    writer.writerows([as_text(value) for value in row] for row in table)
    # The BOM makes Excel on Chinese Windows read the file as UTF-8 instead of GBK.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def shown_width(text: str) -> int:
    """Columns a text takes in Excel: a Chinese character about two Latin ones."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def xlsx_bytes(sheet_name: str, columns: Sequence[Column], table: list[list[Cell]]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    # "@": Excel's text format, so a code edited in the sheet stays text as well.
    formats = {
        "text": book.add_format({"num_format": "@"}),
        "number": book.add_format({"num_format": "General"}),
        "time": book.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
    }
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"})
    sheet = book.add_worksheet(sheet_name[:31])
    sheet.freeze_panes(1, 0)  # the header row stays in view while scrolling
    widths = [shown_width(column.header) for column in columns]
    for col, column in enumerate(columns):
        sheet.write_string(0, col, column.header, header)
    for line, row in enumerate(table, start=1):
        for col, (column, value) in enumerate(zip(columns, row)):
            write(sheet, line, col, column.kind, value, formats[column.kind])
            widths[col] = max(widths[col], 16 if column.kind == "time" else shown_width(as_text(value)))
    for col, width in enumerate(widths):
        sheet.set_column(col, col, min(max(width + 2, 8), 60), formats[columns[col].kind])
    if table:
        sheet.autofilter(0, 0, len(table), len(columns) - 1)
    book.close()
    return out.getvalue()


def write(sheet, line: int, col: int, kind: str, value: Cell, cell_format) -> None:
    if value is None:
        sheet.write_blank(line, col, None, cell_format)
    elif kind == "number":
        sheet.write_number(line, col, value, cell_format)
    elif kind == "time":
        # Excel has no time zones: the wall-clock time in Beijing, as everywhere a person reads one.
        sheet.write_datetime(line, col, as_shanghai(value).replace(tzinfo=None), cell_format)
    elif kind == "date":
        sheet.write_datetime(line, col, datetime.combine(value, datetime.min.time()), cell_format)
    else:
        sheet.write_string(line, col, str(value), cell_format)
