"""The shop owns its data: every row of the merchant, table by table, as CSV and JSON, with its media, in one zip.

Merchant-owned tables are found by walking the app registry (every model with a foreign key to Merchant), so
a table added tomorrow is exported, and deleted on closing (merchants/closure.py), without a list to forget.
The zip is streamed (zipstream-ng): rows are read in batches from a server-side cursor and media files in
chunks, so memory stays bounded however large the shop.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import zipstream
from django.apps import apps
from django.core.files.storage import Storage, default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from core.exports import csv_cell
from merchants import tenancy
from merchants.models import Membership, Merchant

# Hashes of secrets (device and invitation tokens) are no use outside and would only help guess them.
EXCLUDED_COLUMNS = frozenset({"token_hash"})
BATCH = 2000
CHUNK = 64 * 1024

README = """Everything Lingshou holds of {name}, exported {at}.

Each table is here twice: <app>/<table>.csv (for a spreadsheet; cells that start like a formula begin with ')
and <app>/<table>.json (exact values). merchants/staff.csv names the people behind the user ids.
media/ holds the files the rows name (camera references, frames, crops), under the same names.
"""


def merchant_models() -> list[type[models.Model]]:
    """Every installed model with a foreign key to Merchant (the merchant's own tables), in a stable order."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        if any(field.is_relation and field.related_model is Merchant for field in model._meta.concrete_fields):
            found.append(model)
    return sorted(found, key=lambda model: model._meta.label)


def merchant_field(model: type[models.Model]) -> str:
    """The name of the model's foreign key to Merchant."""
    return next(
        field.name for field in model._meta.concrete_fields if field.is_relation and field.related_model is Merchant
    )


def merchant_rows(model: type[models.Model], merchant: Merchant) -> models.QuerySet[Any]:
    """The merchant's rows of the model, whatever its default manager hides."""
    return model._base_manager.filter(**{merchant_field(model): merchant}).order_by("pk")


def _columns(model: type[models.Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields if field.column not in EXCLUDED_COLUMNS]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder)
    if isinstance(value, Decimal | int | float):
        return str(value)
    return str(csv_cell(str(value)))


def _csv(header: list[str], rows: Iterable[tuple[Any, ...]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_text(value) for value in row])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _json(header: list[str], rows: Iterable[tuple[Any, ...]]) -> Iterator[bytes]:
    yield b"["
    parts: list[str] = []
    size = 0
    for number, row in enumerate(rows):
        text = ("\n" if number == 0 else ",\n") + json.dumps(
            dict(zip(header, row, strict=True)), ensure_ascii=False, cls=DjangoJSONEncoder
        )
        parts.append(text)
        size += len(text)
        if size >= CHUNK:
            yield "".join(parts).encode()
            parts, size = [], 0
    yield ("".join(parts) + "\n]\n").encode()


def _table(model: type[models.Model], merchant: Merchant) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    columns = _columns(model)
    return columns, merchant_rows(model, merchant).values_list(*columns).iterator(chunk_size=BATCH)


def _file_fields(model: type[models.Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields if isinstance(field, models.FileField)]


def _media_names(merchant: Merchant) -> Iterator[str]:
    for model in merchant_models():
        for name in _file_fields(model):
            rows = merchant_rows(model, merchant).exclude(**{name: ""}).exclude(**{f"{name}__isnull": True})
            yield from rows.values_list(name, flat=True).iterator(chunk_size=BATCH)


def _file(storage: Storage, name: str) -> Iterator[bytes]:
    try:
        handle = storage.open(name, "rb")
    except FileNotFoundError:
        return
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _staff(merchant: Merchant) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    columns = ["user_id", "user__username", "user__email", "user__first_name", "user__last_name", "role"]
    rows = Membership.objects.filter(merchant=merchant).order_by("pk").values_list(*columns).iterator()
    return [column.replace("user__", "") for column in columns], rows


def _entries(merchant: Merchant, storage: Storage) -> Iterator[tuple[str, Iterable[bytes]]]:
    merchant_columns = _columns(Merchant)
    yield (
        "merchants/merchant.json",
        _json(merchant_columns, Merchant.objects.filter(pk=merchant.pk).values_list(*merchant_columns)),
    )
    yield "merchants/staff.csv", _csv(*_staff(merchant))
    for model in merchant_models():
        path = f"{model._meta.app_label}/{model._meta.model_name}"
        # A generator: each table's rows are read only when the zip reaches it, one cursor open at a time.
        yield f"{path}.csv", _csv(*_table(model, merchant))
        yield f"{path}.json", _json(*_table(model, merchant))
    for name in dict.fromkeys(_media_names(merchant)):
        yield f"media/{name}", _file(storage, name)


def merchant_export(*, merchant: Merchant, storage: Storage | None = None) -> Iterator[bytes]:
    """The merchant's every row (CSV and JSON per table) and media as a zip, streamed in bounded memory;
    reads only the merchant's rows (row-level security), all from one snapshot when it starts a transaction."""
    storage = storage or default_storage
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            # One snapshot for every table: a sale made while the zip streams is in none of them or all.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        with tenancy.merchant_context(merchant.pk):
            archive = zipstream.ZipStream(compress_type=zipstream.ZIP_DEFLATED, sized=False)
            archive.add(README.format(name=merchant.name, at=timezone.now().isoformat()).encode(), "README.txt")
            for name, data in _entries(merchant, storage):
                archive.add(data, name)
            yield from archive
