"""The admin sealed between wholesalers, by one mechanism.

Admin requests run through the audited platform bypass (merchants.middleware), so row-level
security does not narrow them: this module does. Every admin a wholesaler's staff may open is a
``WholesalerScopedAdmin`` (its inlines ``WholesalerScopedInline``), which names once, in
``wholesaler_path``, how a row of its model leads to its wholesaler. From that one path per
model follow, for staff (platform superusers see everything):

- the rows listed, opened, changed, deleted and acted on (``get_queryset`` and object checks);
- the choices of every foreign key and many-to-many field, whatever its widget: a select, a
  raw id (whose label names only a row the staff may see) or an autocomplete (whose view lists
  the related admin's ``get_queryset``); a forged id of another wholesaler's row is a form error;
- the choices of every related list filter;
- a ``wholesaler`` field itself, fixed to the staff member's own.

A related model with no scoped admin offers staff nothing. Every other admin, the libraries'
ones included, is the platform operator's alone (``platform_only_seal``, run once the admin has
discovered every admin), so an admin that forgets the mechanism is closed, not open.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.options import BaseModelAdmin
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from merchants.models import Wholesaler


def wholesaler_of(request: HttpRequest) -> Wholesaler | None:
    """The signed-in staff member's wholesaler (None for anybody else, the platform operator included)."""
    staff = getattr(request.user, "wholesaler_staff", None)
    return staff.wholesaler if staff else None


def _is_operator(request: HttpRequest) -> bool:
    return bool(request.user.is_superuser)


def owner_id(obj: models.Model, path: str) -> Any:
    """The id of the wholesaler ``obj`` leads to along ``path`` ("depot__wholesaler"); None when it leads nowhere."""
    *hops, last = path.split("__")
    row: Any = obj
    for hop in hops:
        row = getattr(row, hop, None)  # an unset relation raises a subclass of AttributeError
        if row is None:
            return None
    if last == "pk":
        return row.pk
    return getattr(row, row._meta.get_field(last).attname)


def path_of(site: admin.AdminSite, model: type[models.Model]) -> str | None:
    """How a row of ``model`` leads to its wholesaler, as its registered scoped admin says (None: no such admin)."""
    try:
        model_admin = site.get_model_admin(model)
    except NotRegistered:
        return None
    return model_admin.wholesaler_path if isinstance(model_admin, WholesalerScopedAdmin) else None


def narrowed(request: HttpRequest, queryset: QuerySet[Any], path: str | None) -> QuerySet[Any]:
    """``queryset`` cut to the staff member's wholesaler along ``path``: all for the operator, none without a path."""
    if _is_operator(request):
        return queryset
    own = wholesaler_of(request)
    if own is None or not path:
        return queryset.none()
    return queryset.filter(**{path: own.pk})


class ScopedRawIdWidget(ForeignKeyRawIdWidget):
    """A raw-id input that names the chosen row only when it is one of ``queryset`` (never a forged id's row)."""

    def __init__(self, *args: Any, queryset: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queryset = queryset

    def label_and_url_for_value(self, value: Any) -> tuple[str, str]:
        key = self.rel.get_related_field().name
        try:
            visible = self.queryset.filter(**{key: value}).exists()
        except (ValueError, TypeError, ValidationError):
            return "", ""
        return super().label_and_url_for_value(value) if visible else ("", "")


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A related field's filter offering only the rows the staff member may see."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> Any:
        ordering = self.field_admin_ordering(field, request, model_admin)
        rows = model_admin.rows_of(request, field.related_model._default_manager.all())
        return field.get_choices(include_blank=False, ordering=ordering, limit_choices_to={"pk__in": rows.values("pk")})


class WholesalerSealed(BaseModelAdmin):
    """The mechanism, shared by scoped admins and their inlines (see the module's docstring)."""

    # How a row of this admin's model leads to its wholesaler; "" for an inline, which its parent scopes.
    wholesaler_path: str = ""

    def rows_of(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """``queryset`` (of any model) cut to what the staff member may see, by that model's scoped admin."""
        return narrowed(request, queryset, path_of(self.admin_site, queryset.model))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        return narrowed(request, queryset, self.wholesaler_path) if self.wholesaler_path else queryset

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        using = kwargs.get("using")
        rows = self.rows_of(request, self._related_rows(db_field, request, kwargs))
        kwargs["queryset"] = rows
        if (
            "widget" not in kwargs
            and db_field.name in self.raw_id_fields
            and db_field.name not in self.get_autocomplete_fields(request)
        ):
            kwargs["widget"] = ScopedRawIdWidget(db_field.remote_field, self.admin_site, queryset=rows, using=using)
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is not None and db_field.related_model is Wholesaler and not _is_operator(request):
            formfield.disabled = True  # their own, shown but not choosable (the form's instance carries it)
        return formfield

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        kwargs["queryset"] = self.rows_of(request, self._related_rows(db_field, request, kwargs))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _related_rows(self, db_field: Any, request: HttpRequest, kwargs: dict[str, Any]) -> QuerySet[Any]:
        # A subclass's own queryset is narrowed too: it can only ever take rows away.
        if kwargs.get("queryset") is not None:
            return kwargs["queryset"]
        ordered = self.get_field_queryset(kwargs.get("using"), db_field, request)
        return (
            ordered if ordered is not None else db_field.remote_field.model._default_manager.using(kwargs.get("using"))
        )

    def get_list_filter(self, request: HttpRequest) -> Any:
        return [self._sealed_filter(item) for item in super().get_list_filter(request)]  # type: ignore[misc]  # ModelAdmin's

    def _sealed_filter(self, item: Any) -> Any:
        """A related field's filter made a scoped one; a filter of the admin's own (SimpleListFilter) is kept."""
        if isinstance(item, str):
            try:
                field = get_fields_from_path(self.model, item)[-1]
            except (FieldDoesNotExist, NotRelationField):
                return item
            return (item, ScopedRelatedFieldListFilter) if field.is_relation else item
        if isinstance(item, tuple) and item[1] is admin.RelatedFieldListFilter:
            return (item[0], ScopedRelatedFieldListFilter)
        return item

    def is_own(self, request: HttpRequest, obj: Any) -> bool:
        """Whether ``obj`` (saved or about to be) is of the staff member's wholesaler; always for the operator."""
        if _is_operator(request) or not self.wholesaler_path:
            return True
        own = wholesaler_of(request)
        return own is not None and owner_id(obj, self.wholesaler_path) == own.pk

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        # ``*args``: an inline is asked with the parent object too.
        return super().has_add_permission(request, *args) and (
            _is_operator(request) or wholesaler_of(request) is not None
        )

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and (obj is None or self._is_own_object(request, obj))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or self._is_own_object(request, obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or self._is_own_object(request, obj))

    def _is_own_object(self, request: HttpRequest, obj: Any) -> bool:
        # An inline is asked about its parent object, which the parent admin has scoped already.
        return not isinstance(obj, self.model) or self.is_own(request, obj)


class WholesalerScopedAdmin(WholesalerSealed, admin.ModelAdmin):
    """An admin wholesaler staff may open: their own wholesaler's rows only, in every list, form, filter and action."""

    wholesaler_path = "merchant__wholesaler"

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        own = wholesaler_of(request)
        if obj is not None or own is None or _is_operator(request):
            return form
        fixed = [
            field.name
            for field in self.model._meta.concrete_fields
            if field.related_model is Wholesaler and field.name in form.base_fields
        ]
        return _owned_form(form, fixed, own) if fixed else form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The last line: the form's choices keep another wholesaler's rows out before this.
        if not self.is_own(request, obj):
            raise PermissionDenied
        super().save_model(request, obj, form, change)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        if not self.is_own(request, obj):
            raise PermissionDenied
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        super().delete_queryset(request, narrowed(request, queryset, self.wholesaler_path))


class WholesalerScopedInline(WholesalerSealed, admin.TabularInline):
    """An inline of a scoped admin: its choices and raw ids are scoped like its parent's, its wholesaler is the parent's."""

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset: Any = super().get_formset(request, obj, **kwargs)
        fixed = [
            field
            for field in self.model._meta.concrete_fields
            if field.related_model is Wholesaler and field.name not in formset.form.base_fields
        ]
        path = path_of(self.admin_site, self.parent_model)
        if fixed and path:
            formset.form = _parents_wholesaler_form(formset.form, fixed, formset.fk.name, path)
        return formset


def _owned_form(form: type[ModelForm[Any]], fields: list[str], own: Wholesaler) -> type[ModelForm[Any]]:
    """``form`` whose new instance already belongs to ``own``, so that the fixed field validates as theirs."""

    class OwnedForm(form):  # type: ignore[valid-type, misc]  # a form class made at run time
        def __init__(self, *args: Any, instance: Any = None, **kwargs: Any) -> None:
            if instance is None:
                instance = self._meta.model(**dict.fromkeys(fields, own))
            super().__init__(*args, instance=instance, **kwargs)

    OwnedForm.__name__ = form.__name__
    return OwnedForm


def _parents_wholesaler_form(
    form: type[ModelForm[Any]], fields: list[Any], parent_name: str, parent_path: str
) -> type[ModelForm[Any]]:
    """An inline ``form`` whose row takes its parent's wholesaler before the constraints naming it are checked.

    The wholesaler is not a field of the inline's form, so Django would skip those constraints (a
    barcode unique per wholesaler) and the database would refuse the row with a server error.
    """

    class ParentsWholesalerForm(form):  # type: ignore[valid-type, misc]  # a form class made at run time
        def validate_unique(self) -> None:
            super().validate_unique()
            parent = getattr(self.instance, parent_name, None)
            if parent is None:
                return
            for field in fields:
                setattr(self.instance, field.attname, owner_id(parent, parent_path))
            checked = {field.name for field in fields} | set(self.fields) | {parent_name}
            try:
                self.instance.validate_constraints(
                    exclude={field.name for field in self.instance._meta.fields} - checked
                )
            except ValidationError as error:
                self.add_error(None, ValidationError(error.messages))

    ParentsWholesalerForm.__name__ = form.__name__
    return ParentsWholesalerForm


class PlatformOnlyAdmin(admin.ModelAdmin):
    """An admin only the platform operator opens: to anybody else it does not exist, whatever their permissions."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_operator(request) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_operator(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_operator(request) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_operator(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_operator(request) and super().has_delete_permission(request, obj)


def platform_only_seal(site: admin.AdminSite) -> None:
    """Make every registered admin that is not wholesaler-scoped the platform operator's alone; idempotent."""
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, WholesalerScopedAdmin | PlatformOnlyAdmin):
            continue
        original = type(model_admin)
        sealed = type(original.__name__, (PlatformOnlyAdmin, original), {"__module__": original.__module__})
        site.unregister(model)
        site.register(model, sealed)
