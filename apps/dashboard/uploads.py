"""Check an uploaded file is a usable CSV before anything is stored.

The browser already refuses files over the limit (dcc.Upload max_size); this checks again on
the server, from the base64 length, before decoding. A file is read as a stream that keeps no
rows (a 5 MB file of short rows made a list of a million lists: ~250 MB per upload), and at most
`PARSE_SLOTS` uploads are decoded and parsed at once. The worker checks the data itself.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
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
        with PARSE_SLOTS.slot():
            data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise UploadRejected("The upload arrived damaged. Please choose the file again.") from error
    if len(data) > max_bytes:
        raise UploadRejected(f"This file is larger than the {human_size(max_bytes)} limit. "
                             "Please upload a smaller CSV (or split it into parts).")
    return data


class ParseSlots:
    """At most `size` uploads decoded and parsed at once in this process; a caller waits up to
    `wait_seconds` for a slot, then hears UploadRejected (busy). Sized by DashboardSettings."""

    def __init__(self, size: int = 2, wait_seconds: float = 30.0) -> None:
        self.wait_seconds = wait_seconds
        self.resize(size)

    def resize(self, size: int) -> None:
        """A new size (at start-up, before any upload: slots held now are not counted)."""
        if size < 1:
            raise ValueError(f"UPLOAD_PARSE_SLOTS must be at least 1, not {size}")
        self.size, self._slots = size, threading.BoundedSemaphore(size)

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._slots.acquire(timeout=self.wait_seconds):
            raise UploadRejected("The dashboard is busy checking other files. Please try again in a minute.")
        try:
            yield
        finally:
            self._slots.release()


PARSE_SLOTS = ParseSlots()  # one per process; create_app sizes it from DashboardSettings


def text_lines(data: bytes, name: str) -> Iterator[str]:
    """The file's lines as text, decoded as they are read (no copy of the whole file); UploadRejected
    for a file that is not UTF-8 text or holds NUL bytes."""
    lines = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    try:
        for line in lines:
            if "\0" in line:
                raise UploadRejected(f"{name} looks like a binary file, not a CSV.")
            yield line
    except UnicodeDecodeError as error:
        raise UploadRejected(f"{name} is not a text CSV file (it is not UTF-8 text). "
                             "Please save it as CSV UTF-8 and upload it again.") from error


def check_csv(name: str, data: bytes, max_rows: int | None = None) -> CsvUpload:
    """A CSV with a header row, at least one data row and the same number of columns on every row.

    Read in one pass that keeps no rows; with `max_rows` it stops after max_rows + 1 data rows
    (`rows` is then max_rows + 1: the file is too long, whatever follows)."""
    safe_name = (name or "upload.csv").replace("/", "_").replace("\\", "_")[-200:]
    if not safe_name.lower().endswith(".csv"):
        raise UploadRejected(f"{safe_name} is not a CSV file. Please upload a .csv file "
                             "(in a spreadsheet: File > Save as > CSV).")
    with PARSE_SLOTS.slot():
        return _check_rows(safe_name, data, max_rows)


def _check_rows(safe_name: str, data: bytes, max_rows: int | None) -> CsvUpload:
    try:
        dialect = csv.Sniffer().sniff(data[:4096].decode("utf-8-sig", errors="ignore"), delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(text_lines(data, safe_name), dialect)
    header: list[str] | None = None
    rows = 0
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = _checked_header(safe_name, row)
                continue
            rows += 1
            if len(row) != len(header):
                raise UploadRejected(
                    f"{safe_name} is not a well-formed CSV: row {rows + 1} has {len(row)} values "
                    f"but the header has {len(header)} columns."
                )
            if max_rows is not None and rows > max_rows:
                break
    except csv.Error as error:  # e.g. one value longer than the csv module's 128 KB field limit
        raise UploadRejected(f"{safe_name} is not a well-formed CSV near row {reader.line_num}: {error}.") from None
    if header is None or rows == 0:
        raise UploadRejected(f"{safe_name} needs a header row and at least one row of data.")
    return CsvUpload(name=safe_name, data=data, rows=rows, columns=header)


def _checked_header(safe_name: str, row: list[str]) -> list[str]:
    header = [cell.strip() for cell in row]
    if len(header) > MAX_COLUMNS:
        raise UploadRejected(f"{safe_name} has {len(header)} columns; at most {MAX_COLUMNS} are supported.")
    if any(not cell for cell in header):
        raise UploadRejected(f"{safe_name}: every column in the header row (row 1) needs a name.")
    return header
