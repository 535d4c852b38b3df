from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo's seeding (``manage.py demo_seed``) and its runner (``python -m demo``)."""

    name = "demo"
