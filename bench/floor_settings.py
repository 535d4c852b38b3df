"""Production's settings with the floor endpoints mounted: what the benches' gunicorn runs.

Nothing but the URL configuration differs, so a real path costs the same as in production and its
floor runs on the same server in the same run (bench/floor_views.py).
"""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.floor_urls"
