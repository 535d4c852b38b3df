"""The validation layer itself (core.inputs, core.forms, core.serializers), and the guard that every form and
serializer of Lingshou stands on it."""

from __future__ import annotations

import importlib
import inspect
import io
import pkgutil
from pathlib import Path

import pytest
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image
from rest_framework import serializers

import core.forms
import core.serializers
from catalog.models import StoreProduct
from core import inputs
from core.exports import CsvLines, csv_cell
from core.money import AmountError, parse_amount

APPS = ["analytics", "catalog", "checkout", "core", "merchants", "ordering", "sensing"]
# The Django admin's own forms; the admin is sealed by its own mechanism (merchants.admin).
ADMIN_MODULES = {"ordering.admin_forms"}


def _project_classes() -> list[type]:
    found: list[type] = []
    root = Path(settings.BASE_DIR)
    for app in APPS:
        for module_info in pkgutil.walk_packages([str(root / app)], prefix=f"{app}."):
            if ".migrations" in module_info.name or ".management" in module_info.name:
                continue
            module = importlib.import_module(module_info.name)
            for _name, value in inspect.getmembers(module, inspect.isclass):
                found.extend(_with_nested(value, module.__name__))
    return list(dict.fromkeys(found))


def _with_nested(cls: type, module: str) -> list[type]:
    if cls.__module__ != module:
        return []
    nested = [v for v in vars(cls).values() if inspect.isclass(v)]
    return [cls, *(c for n in nested for c in _with_nested(n, module))]


def test_every_form_and_serializer_of_the_project_stands_on_the_layer() -> None:
    classes = _project_classes()
    project_forms = [c for c in classes if issubclass(c, forms.BaseForm) and c.__module__ not in ADMIN_MODULES]
    project_serializers = [c for c in classes if issubclass(c, serializers.BaseSerializer)]
    layer = (core.forms.Form, core.forms.ModelForm, core.serializers.Serializer, core.serializers.ModelSerializer)
    outside = [f"{c.__module__}.{c.__qualname__}" for c in project_forms + project_serializers if c not in layer and not issubclass(c, layer)]  # fmt: skip
    assert outside == []
    # The walk found them: a guard that finds nothing proves nothing.
    assert len(project_forms) >= 20
    assert len(project_serializers) >= 40


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5²", "Count: '5²' is not a whole number."),
        ("1e20", "Count: '1e20' is not a whole number."),
        ("٣", "Count: '٣' is not a whole number."),
        (str(2**63), "Count must be at most 2147483647."),
        ("-2147483649", "Count must be at least -2147483648."),
    ],
)
def test_a_whole_number_is_ascii_digits_within_the_column(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as error:
        inputs.whole_number(text, label="Count")
    assert error.value.messages == [message]


def test_the_column_range_is_the_databases() -> None:
    assert inputs.column_range(StoreProduct, "price") == (0, 2_147_483_647)
    assert inputs.column_range(StoreProduct, "on_hand") == (-2_147_483_648, 2_147_483_647)
    assert inputs.column_range(StoreProduct, "id") == (-(2**63), 2**63 - 1)


@pytest.mark.parametrize("typed", ["99999999999", "1e30", "-1e30", "1e999999999"])
def test_an_amount_beyond_the_money_column_is_refused_with_the_largest_there_is(typed: str) -> None:
    with pytest.raises(AmountError, match=r"more than the largest amount Lingshou keeps \(21474836\.47\)"):
        parse_amount(typed, "EUR", allow_negative=True)
    assert parse_amount("21474836.47", "EUR") == 2_147_483_647


@pytest.mark.parametrize("typed", ["1e-999999999", "0.001", "1e-3"])
def test_an_amount_below_the_smallest_unit_is_refused(typed: str) -> None:
    with pytest.raises(AmountError, match=r"EUR amounts have 2 decimals at most\."):
        parse_amount(typed, "EUR")
    assert parse_amount("2.500", "EUR") == 250


def test_a_form_of_the_layer_bounds_numbers_and_cleans_text() -> None:
    class Sample(core.forms.Form):
        quantity = forms.IntegerField()
        item_id = forms.IntegerField()
        note = forms.CharField(required=False)

    form = Sample({"quantity": str(10**20), "item_id": str(2**63), "note": "a\x00b\x1bc\td"})
    assert not form.is_valid()
    assert form.errors["quantity"] == ["Quantity must be at most 2147483647."]
    assert form.errors["item_id"] == [f"Item id must be at most {2**63 - 1}."]
    assert form.cleaned_data["note"] == "abc\td"
    assert Sample({"quantity": "x" * 3, "item_id": "1", "note": "n" * 10_001}).errors["note"] == [
        "Ensure this value has at most 10000 characters (it has 10001)."
    ]


def test_a_serializer_of_the_layer_bounds_numbers_and_cleans_text() -> None:
    class Sample(core.serializers.Serializer):
        columns = {"sequence": (StoreProduct, "price")}
        quantity = serializers.IntegerField()
        sequence = serializers.IntegerField(min_value=5)
        note = serializers.CharField()

    data = Sample(data={"quantity": 2**63, "sequence": 1, "note": "x\x00y"})
    assert not data.is_valid()
    assert data.errors["quantity"] == ["Quantity must be at most 2147483647."]
    assert data.errors["sequence"] == ["Ensure this value is greater than or equal to 5."]
    ok = Sample(data={"quantity": -3, "sequence": 2_147_483_647, "note": "x\x00y"})
    assert ok.is_valid(), ok.errors
    assert ok.validated_data == {"quantity": -3, "sequence": 2_147_483_647, "note": "xy"}


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A real 16 x 16 JPEG whose header claims another size (the SOF0 segment rewritten)."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(out, "JPEG")
    data = bytearray(out.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


def test_an_image_is_sized_from_its_header_and_a_bomb_is_refused_before_decoding() -> None:
    assert inputs.image_size(_jpeg_claiming(16, 16), max_pixels=1000) == (16, 16)
    with pytest.raises(inputs.UploadError) as bomb:
        inputs.image_size(_jpeg_claiming(20000, 20000), max_pixels=40_000_000)
    assert bomb.value.code == "too_many_pixels"
    with pytest.raises(inputs.UploadError, match="7000 × 7000 pixels, more than the 40 megapixels"):
        inputs.image_size(_jpeg_claiming(7000, 7000), max_pixels=40_000_000)
    with pytest.raises(inputs.UploadError, match="not a picture"):
        inputs.image_size(b"GIF89a but not really", max_pixels=1000)


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("code,price\nÄpfel,2.49\n".encode(), "code,price\nÄpfel,2.49\n"),
        ("\ufeffcode,price\nÄpfel,2.49\n".encode(), "code,price\nÄpfel,2.49\n"),
        ("code,price\nÄpfel,2.49 €\n".encode("cp1252"), "code,price\nÄpfel,2.49 €\n"),
        ("code,price\nÄpfel,2.49\n".encode("latin-1"), "code,price\nÄpfel,2.49\n"),
    ],
)
def test_a_csv_upload_is_read_as_utf8_or_windows_1252(data: bytes, text: str) -> None:
    assert inputs.csv_text(data) == text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"code,price\n1,2\n3,\x004\n", "row 2 holds a NUL byte"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "row 2 holds a NUL byte"),
        (b"code,price\n1," + b"9" * 200_000 + b"\n", "Row 1: the file is not valid CSV (field larger than field limit"),
        (
            b"code,price\n1," + b"9" * 20_000 + b"\n",
            "Row 1: a field has 20000 characters, more than the 10000 allowed.",
        ),
    ],
)
def test_a_csv_upload_that_is_no_text_or_too_long_is_refused_with_its_row(data: bytes, message: str) -> None:
    with pytest.raises(inputs.UploadError) as error:
        inputs.csv_text(data)
    assert message in str(error.value)


def test_every_csv_cell_that_starts_like_a_formula_is_escaped_and_numbers_stay_numbers() -> None:
    line = CsvLines().row(["=cmd|' /C calc'!A0", "+1+1", "-1+2", "@SUM(A1)", "\tx", "\rx", "-2.50", -3, "Cola"])
    assert line == "'=cmd|' /C calc'!A0,'+1+1,'-1+2,'@SUM(A1),'\tx,\"'\rx\",-2.50,-3,Cola\r\n"
    assert csv_cell("-2") == "-2"
