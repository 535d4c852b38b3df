"""Settings with the floor endpoints mounted: what the benches' gunicorn runs (bench/floor_views.py).

Production's settings by default; FLOOR_BASE_SETTINGS names another module to extend (the sensing
bench runs its server on the test settings). Nothing but the URL configuration differs, so a real
path costs what it costs there, and its floor runs on the same server in the same run.
"""

import importlib
import os

_base = importlib.import_module(os.environ.get("FLOOR_BASE_SETTINGS", "config.settings.production"))
globals().update({name: value for name, value in vars(_base).items() if name.isupper()})

ROOT_URLCONF = "bench.floor_urls"
