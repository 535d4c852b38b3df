"""One validation layer for what comes from outside: forms, the API, CSV files, uploads.

- Numbers are bounded to the column they are written to, and the message names the field
  (PostgreSQL would otherwise answer "integer out of range" from deep inside a service).
- Text loses its control characters; a NUL byte never reaches PostgreSQL, which cannot store one.
- An image's size is read from its header before a single pixel is decoded.
- A CSV file is read as UTF-8 (with or without a byte-order mark), else as Windows-1252; a file that
  is not text at all is refused with the row it breaks on.

Forms and serializers get the first two by default through ``core.forms`` and ``core.serializers``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection
from django.db.models import Model
from PIL import Image, UnidentifiedImageError

# Kept: tab, line feed and carriage return are text; every other C0 control and DEL is not.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WHOLE = re.compile(r"[+-]?[0-9]+")
# Far longer than anything a shop types into one field, far shorter than what fills a server.
TEXT_MAX_LENGTH = 10_000
# Longer than any number a column holds (a bigint has 19 digits), short enough to refuse cheaply.
NUMBER_MAX_LENGTH = 24


def integer_range(internal_type: str) -> tuple[int, int]:
    """The values PostgreSQL stores in a column of this Django type ("IntegerField", "BigAutoField", ...)."""
    low, high = connection.ops.integer_field_range(internal_type)
    return int(low), int(high)


def column_range(model: type[Model], field_name: str) -> tuple[int, int]:
    """The values the model's integer column holds, as the database bounds them."""
    return integer_range(model._meta.get_field(field_name).get_internal_type())


# The narrowest integer column a person's number is written to (quantities, prices in minor units):
# the default for a form or serializer field that does not name its column.
INTEGER = integer_range("IntegerField")
BIGINT = integer_range("BigIntegerField")


def range_validators(label: str, low: int, high: int) -> list[Any]:
    """Validators that refuse what the column cannot hold, naming the field."""
    return [
        MinValueValidator(low, message=f"{label} must be at least {low}."),
        MaxValueValidator(high, message=f"{label} must be at most {high}."),
    ]


def number_check(value: int, *, label: str, low: int, high: int) -> int:
    """``value`` if the column holds it; else ValidationError naming the field and the limit."""
    if value < low:
        raise ValidationError(f"{label} must be at least {low}.", code="min_value")
    if value > high:
        raise ValidationError(f"{label} must be at most {high}.", code="max_value")
    return value


def whole_number(text: str, *, label: str, low: int = INTEGER[0], high: int = INTEGER[1]) -> int:
    """A whole number a person typed: ASCII digits with an optional sign ("5²" and "1e20" are not), within range."""
    text = text.strip()
    if len(text) > NUMBER_MAX_LENGTH or not _WHOLE.fullmatch(text):
        raise ValidationError(f"{label}: {text[:NUMBER_MAX_LENGTH]!r} is not a whole number.", code="invalid")
    return number_check(int(text), label=label, low=low, high=high)


def id_or_none(value: object) -> int | None:
    """An id a page posted or put in its query string ("17"), or None for anything that cannot be one."""
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > NUMBER_MAX_LENGTH:
        return None
    number = int(text)
    return number if number <= BIGINT[1] else None


def text_clean(value: str) -> str:
    """The text without control characters (tab and line breaks stay); a NUL byte is one of them."""
    return _CONTROL.sub("", value) if _CONTROL.search(value) else value


# --- uploads -------------------------------------------------------------------------------------


class UploadError(ValueError):
    """An uploaded file that is refused; the message says why, for the person who sent it; ``code`` for machines."""

    def __init__(self, message: str, *, code: str = "unreadable") -> None:
        super().__init__(message)
        self.code = code


def image_size(data: bytes, *, max_pixels: int, formats: tuple[str, ...] | None = None) -> tuple[int, int]:
    """(width, height) from the image's header alone: nothing is decoded, and an image over ``max_pixels`` is refused."""
    try:
        with Image.open(io.BytesIO(data), formats=formats) as image:
            width, height = int(image.size[0]), int(image.size[1])
    except Image.DecompressionBombError as error:
        # Pillow refuses a header claiming over twice its own limit before we can read the size.
        raise UploadError("The picture has too many pixels; send a smaller one.", code="too_many_pixels") from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise UploadError("This file is not a picture we can read.") from error
    if width * height > max_pixels:
        raise UploadError(
            f"The picture has {width} × {height} pixels, more than the {max_pixels / 1e6:g} megapixels allowed; "
            "send a smaller one.",
            code="too_many_pixels",
        )
    return width, height


CSV_FIELD_MAX = 10_000
CSV_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")


CSV_MAX_BYTES = 50 * 1024 * 1024  # a 100,000-row catalog is about 15 MB


def csv_upload(upload: Any) -> str:
    """An uploaded CSV file (a Django UploadedFile) as text, by ``csv_text``; refused over ``CSV_MAX_BYTES``."""
    if upload.size > CSV_MAX_BYTES:
        raise UploadError(
            f"The file is larger than {CSV_MAX_BYTES // (1024 * 1024)} MB; split it and upload each part."
        )
    return csv_text(upload.read())


def _row_of(data: bytes, offset: int) -> int:
    """The data row (1 = the first after the header) that holds byte ``offset``."""
    return data.count(b"\n", 0, offset)


def csv_text(data: bytes) -> str:
    """An uploaded CSV file as text: UTF-8 (a byte-order mark is dropped), else Windows-1252, else Latin-1.

    UploadError naming the row when the file holds a NUL byte (no text file does: a picture, a
    spreadsheet or UTF-16 was sent) or a field longer than ``CSV_FIELD_MAX`` characters.
    """
    nul = data.find(b"\x00")
    if nul >= 0:
        where = _row_of(data, nul)
        place = "the header" if where == 0 else f"row {where}"
        raise UploadError(
            f"This is not a CSV text file ({place} holds a NUL byte); save it as CSV (UTF-8) and upload it again."
        )
    for encoding in CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    for number, field in _long_fields(text):
        raise UploadError(f"Row {number}: a field has {field} characters, more than the {CSV_FIELD_MAX} allowed.")
    return text


def _long_fields(text: str) -> Iterator[tuple[int, int]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for number, row in enumerate(reader):
            for field in row:
                if len(field) > CSV_FIELD_MAX:
                    yield number, len(field)
    except csv.Error as error:
        # csv's own limit (131,072 characters) and broken quoting end the reading; the row is named all the same.
        raise UploadError(f"Row {max(reader.line_num - 1, 0)}: the file is not valid CSV ({error}).") from error
