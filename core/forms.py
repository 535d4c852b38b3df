"""The base of every form: numbers within their column, text without control characters, lengths bounded.

Every form of Lingshou derives from ``Form`` or ``ModelForm`` here (tests/core/test_inputs_layer.py
walks the project to prove it), so a field added tomorrow is bounded without anyone remembering to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.core.validators import MaxLengthValidator, MaxValueValidator
from django.db.models import Model

from core import inputs


def _clean_text(to_python: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def wrapped(value: Any) -> Any:
        result = to_python(value)
        return inputs.text_clean(result) if isinstance(result, str) else result

    return wrapped


def _column(form: forms.BaseForm, name: str) -> tuple[int, int]:
    columns: dict[str, tuple[type[Model], str]] = getattr(form, "columns", {})
    if name in columns:
        return inputs.column_range(*columns[name])
    model = getattr(getattr(form, "_meta", None), "model", None)
    if model is not None:
        try:
            return inputs.column_range(model, name)
        except (FieldDoesNotExist, KeyError):  # a form field of its own, or a column that is not an integer
            pass
    return inputs.BIGINT if name == "id" or name.endswith("_id") else inputs.INTEGER


def bound_fields(form: forms.BaseForm) -> None:
    """Give each field of the form the layer's bounds, unless the field is already tighter."""
    for name, field in form.fields.items():
        if getattr(field, "_inputs_bounded", False):
            continue
        field._inputs_bounded = True  # type: ignore[attr-defined]
        label = str(field.label or name.replace("_", " ").capitalize())
        if isinstance(field, forms.IntegerField) and not any(
            isinstance(v, MaxValueValidator) for v in field.validators
        ):
            field.validators.extend(inputs.range_validators(label, *_column(form, name)))
        elif isinstance(field, forms.CharField):
            field.to_python = _clean_text(field.to_python)  # type: ignore[method-assign,assignment]
            if field.max_length is None:
                field.max_length = inputs.TEXT_MAX_LENGTH
                field.validators.append(MaxLengthValidator(inputs.TEXT_MAX_LENGTH))


class Form(forms.Form):
    """A form whose numbers fit their column and whose text is clean; ``columns`` names a field's column."""

    columns: ClassVar[dict[str, tuple[type[Model], str]]] = {}

    def full_clean(self) -> None:
        # Here rather than in __init__: forms add fields after their own __init__ (OrderFilterForm's dates).
        bound_fields(self)
        super().full_clean()


class ModelForm(forms.ModelForm):
    """``Form`` for a model: each integer field is bounded by the model's own column."""

    columns: ClassVar[dict[str, tuple[type[Model], str]]] = {}

    def full_clean(self) -> None:
        bound_fields(self)
        super().full_clean()
