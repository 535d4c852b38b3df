"""factory_boy factories. Tenant rows are written inside their merchant's context, as the app does."""

from __future__ import annotations

import time
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants.models import Device, Membership, Merchant, Role, Store, Wholesaler
from merchants.tenancy import merchant_context

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.SelfAttribute("username")
    first_name = factory.Faker("first_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(self, create: bool, extracted: Any, **kwargs: Any) -> None:  # noqa: ARG002 - factory_boy's post_generation signature
        if create:
            self.save()


class WholesalerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Wholesaler
        django_get_or_create = ("slug",)

    name = "Metro Cash & Carry Test"
    slug = "metro-test"


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"Corner Shop {n}")
    slug = factory.Sequence(lambda n: f"corner-shop-{n}")
    wholesaler = factory.SubFactory(WholesalerFactory)


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Any:
        with merchant_context(kwargs["merchant"].pk):
            return super()._create(model_class, *args, **kwargs)


class StoreFactory(TenantFactory):
    class Meta:
        model = Store

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Store {n}")
    code = factory.Sequence(lambda n: f"ST{n:04d}")
    timezone = "Europe/Berlin"
    currency = "EUR"
    city = "Berlin"


class MembershipFactory(TenantFactory):
    class Meta:
        model = Membership

    merchant = factory.SubFactory(MerchantFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.CLERK


class DeviceFactory(TenantFactory):
    class Meta:
        model = Device

    store = factory.SubFactory(StoreFactory)
    merchant = factory.SelfAttribute("store.merchant")
    name = factory.Sequence(lambda n: f"Camera {n}")
    prefix = "lsd_test"
    token_hash = factory.Sequence(lambda n: f"{n:064x}")


def two_step_on(user: Any) -> TOTPDevice:
    """The user's confirmed authenticator app (a random key), made if they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code the app shows now, or ``steps_ahead`` steps of 30 s later (the device accepts the next one too,
    and each step's code only once, so a second sign-in in the same step types the next)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def signed_in_two_step(user: Any, client: Client | None = None) -> Client:
    """A client signed in as the user past the second step, as the platform operator must be; the user gets an
    authenticator app if they have none."""
    client = client or Client()
    user.otp_device = two_step_on(user)  # django-otp marks the session verified by it at login
    try:
        client.force_login(user)
    finally:
        del user.otp_device
    return client
