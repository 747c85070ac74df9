"""Check an uploaded file is a usable CSV before anything is stored.

The browser already refuses files over the limit (dcc.Upload max_size); this checks again on
the server, from the base64 length, before decoding. The worker checks the data itself.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from dataclasses import dataclass

MAX_COLUMNS = 200


class UploadRejected(ValueError):
    """The file cannot be a job's input; the message says why and what to do."""


@dataclass(frozen=True)
class CsvUpload:
    name: str
    data: bytes
    rows: int
    columns: list[str]


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    if size >= 1024:
        return f"{size / 1024:.3g} KB"
    return f"{size} bytes"


def decode_upload(contents: str, max_bytes: int) -> bytes:
    """The bytes of dcc.Upload's `data:<type>;base64,<data>` string, refusing oversized ones unread."""
    _, _, encoded = contents.partition(",")
    if len(encoded) * 3 // 4 > max_bytes + 3:
        raise UploadRejected(f"This file is larger than the {human_size(max_bytes)} limit. "
                             "Please upload a smaller CSV (or split it into parts).")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise UploadRejected("The upload arrived damaged. Please choose the file again.") from error
    if len(data) > max_bytes:
        raise UploadRejected(f"This file is larger than the {human_size(max_bytes)} limit. "
                             "Please upload a smaller CSV (or split it into parts).")
    return data


def check_csv(name: str, data: bytes) -> CsvUpload:
    """A CSV with a header row, at least one data row and the same number of columns on every row."""
    safe_name = (name or "upload.csv").replace("/", "_").replace("\\", "_")[-200:]
    if not safe_name.lower().endswith(".csv"):
        raise UploadRejected(f"{safe_name} is not a CSV file. Please upload a .csv file "
                             "(in a spreadsheet: File > Save as > CSV).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UploadRejected(f"{safe_name} is not a text CSV file (it is not UTF-8 text). "
                             "Please save it as CSV UTF-8 and upload it again.") from error
    if "\0" in text:
        raise UploadRejected(f"{safe_name} looks like a binary file, not a CSV.")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        rows = [row for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as error:  # e.g. one value longer than the csv module's 128 KB field limit
        raise UploadRejected(f"{safe_name} is not a well-formed CSV near row {reader.line_num}: {error}.") from None
    if len(rows) < 2:
        raise UploadRejected(f"{safe_name} needs a header row and at least one row of data.")
    header = [cell.strip() for cell in rows[0]]
    if len(header) > MAX_COLUMNS:
        raise UploadRejected(f"{safe_name} has {len(header)} columns; at most {MAX_COLUMNS} are supported.")
    if any(not cell for cell in header):
        raise UploadRejected(f"{safe_name}: every column in the header row (row 1) needs a name.")
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise UploadRejected(
                f"{safe_name} is not a well-formed CSV: row {number} has {len(row)} values "
                f"but the header has {len(header)} columns."
            )
    return CsvUpload(name=safe_name, data=data, rows=len(rows) - 1, columns=header)
