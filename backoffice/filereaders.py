"""Reading the files creditors and banks send us: CSV (UTF-8 or GBK) and XLSX.

Placement files (``cases.placements``) and payment statements
(``cases.statements``) both arrive as a table with a header row. Everything
that can be wrong with the *file* rather than a row is found here, before a
single row reaches a service, so an import never half-loads:

- empty, too large (``settings.IMPORT_MAX_BYTES``), or neither CSV nor XLSX;
- more data rows than ``settings.IMPORT_MAX_ROWS``, or an XLSX whose
  members expand to more than ``settings.IMPORT_MAX_UNCOMPRESSED_BYTES``
  (a 500 KB XLSX can hold millions of rows): refused from the zip directory,
  the sheet's ``<dimension>`` and a byte scan of the sheet that stops at the
  limit, before openpyxl parses a single row;
- a CSV that is neither UTF-8 nor GBK (GB18030, its superset, is what we
  decode with; a UTF-8 byte-order mark is accepted and dropped);
- an XLSX that is truncated or damaged (openpyxl cannot open it, or fails
  half-way through its sheet);
- a header row that lacks a required column or repeats one.

Messages never carry a server path (``public_error``): the stored file's
location is ours, not the sender's.

``inspect_table`` reads the whole file once, in constant memory, and answers
a ``TableFile`` (kind, encoding, SHA-256 of the bytes, header). ``iter_rows``
then streams ``(line_number, {column: text})`` pairs; callers validate every
row in one pass and write in a second, so a damaged tail is found before
anything is written. Line numbers are the ones a person sees in a text
editor or a spreadsheet: the header is line 1.
"""

import codecs
import contextlib
import csv
import datetime
import hashlib
import io
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CSV = "csv"
XLSX = "xlsx"
_ZIP_MAGIC = b"PK\x03\x04"
_CHUNK = 1 << 20
# GBK files are decoded as GB18030: every GBK byte sequence means the same there.
_ENCODINGS = ("utf-8", "gb18030")
_ENCODING_NAMES = {"utf-8": "UTF-8", "gb18030": "GBK"}


class FileRejected(ValidationError):
    """The file as a whole cannot be imported; nothing was written."""


# An absolute path (POSIX, or a Windows drive), as an error text may quote it.
_PATH = re.compile(r"""(?<![\w.])(?:[A-Za-z]:)?[\\/][^\s'")]+""")


def public_error(error) -> str:
    """``error``'s text with every file-system path replaced by ``<file>``:
    an exception from zipfile, openpyxl or the OS may quote where the upload
    lies on the server, which an operator or API client must not see."""
    return _PATH.sub("<file>", str(error))


@dataclass(frozen=True)
class TableFile:
    path: str
    kind: str
    encoding: str | None  # CSV only: "utf-8" or "gb18030"
    sha256: str
    size: int
    header: tuple[str, ...]

    @property
    def encoding_name(self) -> str:
        return _ENCODING_NAMES.get(self.encoding or "", "")


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def upload_on_disk(upload) -> Iterator[str]:
    """A path on disk holding ``upload`` (a Django ``UploadedFile``) while the
    block runs: the readers here take a path. Django's own temporary file
    when it spooled the upload to disk, else a copy removed on exit (the
    admin and API upload screens of placements and statements)."""
    if hasattr(upload, "temporary_file_path"):
        yield upload.temporary_file_path()
        return
    suffix = os.path.splitext(upload.name or "")[1]
    handle = tempfile.NamedTemporaryFile(delete=False, dir=settings.FILE_UPLOAD_TEMP_DIR, suffix=suffix)
    try:
        with handle:
            upload.seek(0)
            shutil.copyfileobj(upload, handle)
        yield handle.name
    finally:
        if os.path.exists(handle.name):
            os.unlink(handle.name)


def import_failure_reason(exc: BaseException, *, nothing_done: str) -> str:
    """What a file's page and the API say when its import stopped on an
    unexpected error (``nothing_done``: "no row was loaded"): the kind of
    error, never its text, which may quote server paths or SQL; the server
    log has the traceback."""
    from celery.exceptions import SoftTimeLimitExceeded

    if isinstance(exc, SoftTimeLimitExceeded):
        return _(
            "The import took longer than %(seconds)s seconds and was stopped; %(nothing_done)s. "
            "Split the file and send the parts."
        ) % {"seconds": settings.IMPORT_TASK_SOFT_TIME_LIMIT, "nothing_done": nothing_done}
    return _(
        "The import stopped on an unexpected error (%(kind)s); %(nothing_done)s. "
        "Send the file again, or ask an administrator to look at the server log."
    ) % {"kind": type(exc).__name__, "nothing_done": nothing_done}


def _check_size(path) -> int:
    size = os.path.getsize(path)
    if size == 0:
        raise FileRejected(_("The file is empty."), code="empty")
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        message = _(
            "The file is %(size)s bytes; files above %(limit)s bytes are refused. Split it and send it again."
        )
        raise FileRejected(message % {"size": f"{size:,}", "limit": f"{limit:,}"}, code="too_large")
    return size


def _decodes_whole(path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with open(path, "rb") as handle:
            while block := handle.read(_CHUNK):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path) -> str:
    """UTF-8 if the whole file is valid UTF-8, else GBK (GB18030) if it is
    valid there, else refuse: guessing from a sample would let a bad byte
    at line 90,000 through."""
    for encoding in _ENCODINGS:
        if _decodes_whole(path, encoding):
            return encoding
    raise FileRejected(
        _("The file is neither UTF-8 nor GBK text; save it as UTF-8 CSV or XLSX and send it again."),
        code="encoding",
    )


def _normalise_header(cells: Iterable) -> tuple[str, ...]:
    header = tuple(("" if cell is None else str(cell)).strip().lstrip("\ufeff") for cell in cells)
    while header and not header[-1]:
        header = header[:-1]
    return header


def _check_header(header: tuple[str, ...], required: Iterable[str]) -> None:
    if not header:
        raise FileRejected(_("The file has no header row."), code="no_header")
    seen, repeated = set(), []
    for name in header:
        if name and name in seen:
            repeated.append(name)
        seen.add(name)
    if repeated:
        raise FileRejected(
            _("The header repeats column(s): %(columns)s.") % {"columns": ", ".join(repeated)},
            code="repeated_column",
        )
    missing = [name for name in required if name not in seen]
    if missing:
        raise FileRejected(
            _("The header lacks required column(s): %(columns)s.") % {"columns": ", ".join(missing)},
            code="missing_column",
        )


def _too_many_rows(limit: int) -> FileRejected:
    message = _("The file has more than %(limit)s rows; split it and send the parts.")
    return FileRejected(message % {"limit": f"{limit:,}"}, code="too_many_rows")


def _check_csv_rows(path, encoding: str) -> None:
    """Refuse a CSV with more than ``IMPORT_MAX_ROWS`` data rows; the count
    stops at the limit, so a huge file costs no more than a legal one."""
    limit = settings.IMPORT_MAX_ROWS
    with _open_csv(path, encoding) as handle:
        reader = csv.reader(handle)
        try:
            for count, _cells in enumerate(reader):
                if count > limit:  # row 0 is the header
                    raise _too_many_rows(limit)
        except csv.Error:
            return  # ``iter_rows`` reports the line that cannot be read


# ``<dimension ref="A1:O3000001"/>``: the sheet's own claim of its extent.
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"[A-Z]*\d*:?[A-Z]*(\d+)\"")
# The start of a row element (``<row `` or a prefixed ``<x:row ``).
_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")
_TAG_OVERLAP = 16


def _check_xlsx_bounds(path) -> None:
    """Refuse an XLSX that would expand past ``IMPORT_MAX_UNCOMPRESSED_BYTES``
    or holds a sheet with more than ``IMPORT_MAX_ROWS`` rows, before openpyxl
    parses anything. Sizes come from the zip directory (zipfile refuses to
    expand a member past its declared size); rows from the sheet's
    ``<dimension>`` and then a scan of its XML for row tags that stops at the
    limit (a sheet may omit or understate its dimension)."""
    max_bytes = settings.IMPORT_MAX_UNCOMPRESSED_BYTES
    max_rows = settings.IMPORT_MAX_ROWS
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            expanded = sum(member.file_size for member in members)
            if expanded > max_bytes:
                message = _(
                    "The XLSX file expands to %(size)s bytes; files that expand to more than "
                    "%(limit)s bytes are refused. Split it and send the parts."
                )
                raise FileRejected(
                    message % {"size": f"{expanded:,}", "limit": f"{max_bytes:,}"}, code="too_large"
                )
            for member in members:
                if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
                    if _sheet_rows_exceed(archive, member, max_rows):
                        raise _too_many_rows(max_rows)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        message = _("The XLSX file cannot be read (truncated or damaged): %(error)s")
        raise FileRejected(message % {"error": public_error(exc)}, code="bad_xlsx") from exc


def _sheet_rows_exceed(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int) -> bool:
    rows = 0
    tail = b""
    with archive.open(member) as stream:
        first = True
        while block := stream.read(_CHUNK):
            data = tail + block
            if first:
                first = False
                claimed = _DIMENSION.search(data[:4096])
                if claimed and int(claimed.group(1)) - 1 > limit:
                    return True
            # Tags that straddle two blocks are found once: the overlap is
            # shorter than any tag, and matches are counted only when they
            # start before it.
            cut = len(data) - _TAG_OVERLAP
            rows += sum(1 for match in _ROW_TAG.finditer(data) if match.start() < cut)
            tail = data[cut:] if cut > 0 else data
            if rows - 1 > limit:  # the first row is the header
                return True
    rows += len(_ROW_TAG.findall(tail))
    return rows - 1 > limit


def _open_csv(path, encoding: str) -> io.TextIOWrapper:
    return open(path, encoding="utf-8-sig" if encoding == "utf-8" else encoding, newline="")


# What a cut-off or corrupt XLSX raises part-way through its sheet: zip and
# I/O errors, and the XML parser's own (lxml or the stdlib's) by name.
_DAMAGE = (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, SyntaxError)
_XML_ERRORS = {"XMLSyntaxError", "ParseError", "ExpatError"}


def _xlsx_workbook(path):
    # Imported here: only XLSX imports need openpyxl.
    from openpyxl import load_workbook

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except _DAMAGE as exc:
        message = _("The XLSX file cannot be read (truncated or damaged): %(error)s")
        raise FileRejected(message % {"error": public_error(exc)}, code="bad_xlsx") from exc


def _damaged_xlsx(exc: Exception) -> FileRejected:
    message = _("The XLSX file cannot be read to its end (truncated or damaged): %(error)s")
    return FileRejected(message % {"error": public_error(exc)}, code="bad_xlsx")


def _xlsx_rows(path) -> Iterator[tuple]:
    workbook = _xlsx_workbook(path)
    try:
        if not workbook.worksheets:
            raise FileRejected(_("The XLSX file has no sheet."), code="bad_xlsx")
        try:
            yield from workbook.worksheets[0].iter_rows(values_only=True)
        except _DAMAGE as exc:
            raise _damaged_xlsx(exc) from exc
        except Exception as exc:
            if type(exc).__name__ in _XML_ERRORS:
                raise _damaged_xlsx(exc) from exc
            raise
    finally:
        workbook.close()


def _cell_text(value) -> str:
    """Spreadsheet cells as the text a person typed: dates ISO, whole
    numbers without ``.0``, other numbers through ``Decimal(str(x))`` so
    ``1413.5`` stays ``1413.5`` (never a binary-float artefact)."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = format(Decimal(str(value)), "f")
        return text[:-2] if text.endswith(".0") else text
    return str(value).strip()


def _kind_of(path) -> str:
    with open(path, "rb") as handle:
        magic = handle.read(4)
    return XLSX if magic == _ZIP_MAGIC else CSV


def inspect_table(path, *, required_columns: Iterable[str] = ()) -> TableFile:
    """Check the file as a whole (size, kind, encoding, header); raise
    ``FileRejected`` with a message for the operator, or describe it."""
    path = os.fspath(path)
    size = _check_size(path)
    kind = _kind_of(path)
    encoding = None
    if kind == XLSX:
        _check_xlsx_bounds(path)
        header = _normalise_header(next(_xlsx_rows(path), ()))
    else:
        encoding = detect_encoding(path)
        _check_csv_rows(path, encoding)
        with _open_csv(path, encoding) as handle:
            header = _normalise_header(next(csv.reader(handle), ()))
    _check_header(header, required_columns)
    digest = sha256_of(path)
    return TableFile(path=path, kind=kind, encoding=encoding, sha256=digest, size=size, header=header)


def iter_rows(table: TableFile) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line_number, {header: text})`` for every non-blank data row.

    Cells beyond the header are ignored; missing trailing cells read as ``""``.
    Raises ``FileRejected`` if the file turns out damaged part-way through.
    """
    header = table.header
    width = len(header)
    if table.kind == XLSX:
        rows = _xlsx_rows(table.path)
        next(rows, None)
        limit = settings.IMPORT_MAX_ROWS
        for number, cells in enumerate(rows, start=2):
            if number - 1 > limit:  # ``inspect_table`` counted; a second guard costs nothing
                raise _too_many_rows(limit)
            values = [_cell_text(cell) for cell in cells[:width]]
            if any(values):
                values += [""] * (width - len(values))
                yield number, dict(zip(header, values, strict=True))
        return
    with _open_csv(table.path, table.encoding) as handle:
        reader = csv.reader(handle)
        try:
            next(reader, None)
            line = reader.line_num + 1
            for cells in reader:
                values = [cell.strip() for cell in cells[:width]]
                if any(values):
                    values += [""] * (width - len(values))
                    yield line, dict(zip(header, values, strict=True))
                line = reader.line_num + 1
        except csv.Error as exc:
            raise FileRejected(
                _("Line %(line)s cannot be read as CSV: %(error)s")
                % {"line": reader.line_num, "error": public_error(exc)},
                code="bad_csv",
            ) from exc
