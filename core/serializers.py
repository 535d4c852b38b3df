"""The base of every serializer: numbers within their column, text without control characters, lengths bounded.

The same layer as ``core.forms`` for the API; tests/core/test_inputs_layer.py proves every serializer
of the project derives from ``Serializer`` or ``ModelSerializer`` here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from django.core.validators import MaxLengthValidator, MaxValueValidator
from django.db.models import Model
from rest_framework import fields as drf_fields
from rest_framework import serializers

from core import inputs

_M = TypeVar("_M", bound=Model)


def _clean_text(to_internal_value: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def wrapped(data: Any) -> Any:
        value = to_internal_value(data)
        return inputs.text_clean(value) if isinstance(value, str) else value

    return wrapped


def _bound(field: drf_fields.Field, name: str, columns: dict[str, tuple[type[Model], str]]) -> None:
    if isinstance(field, drf_fields.ListField) and field.child is not None:
        _bound(field.child, name, columns)
    elif isinstance(field, drf_fields.IntegerField):
        if field.max_value is not None or any(isinstance(v, MaxValueValidator) for v in field.validators):
            return
        if name in columns:
            low, high = inputs.column_range(*columns[name])
        else:
            low, high = inputs.BIGINT if name == "id" or name.endswith("_id") else inputs.INTEGER
        # Set as attributes too, so the API schema states the bounds.
        field.max_value = high
        field.min_value = low if field.min_value is None else max(low, field.min_value)
        label = name.replace("_", " ").capitalize()
        field.validators.extend(inputs.range_validators(label, low, high))
    elif isinstance(field, drf_fields.CharField):
        field.to_internal_value = _clean_text(field.to_internal_value)  # type: ignore[method-assign,assignment]
        if field.max_length is None:
            field.max_length = inputs.TEXT_MAX_LENGTH
            field.validators.append(MaxLengthValidator(inputs.TEXT_MAX_LENGTH))


class _Bounded:
    columns: ClassVar[dict[str, tuple[type[Model], str]]] = {}

    def get_fields(self) -> dict[str, drf_fields.Field]:
        fields: dict[str, drf_fields.Field] = super().get_fields()  # type: ignore[misc]
        for name, field in fields.items():
            if not field.read_only:
                _bound(field, name, self.columns)
        return fields


class Serializer(_Bounded, serializers.Serializer[Any]):
    """A serializer whose input numbers fit their column (``columns`` names it; else an integer column,
    a bigint for ids) and whose text is clean."""


class ModelSerializer(_Bounded, serializers.ModelSerializer[_M], Generic[_M]):
    """``Serializer`` for a model; DRF already bounds the model's own integer fields by their column."""
