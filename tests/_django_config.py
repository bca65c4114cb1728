"""The one Django configuration of the test run (Django takes one per process,
set by whichever test module needs it first).

``ROOT_URLCONF`` is the name ``tests/path_guard_apps.py`` expects; the other
tests route through ``override_settings``.
"""

from __future__ import annotations


def configure_django() -> None:
    """Configure Django and set it up, unless that is done already."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="django-tests-only",
            ALLOWED_HOSTS=["*"],
            ROOT_URLCONF="path_guard_urls",
            MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
            USE_TZ=True,
        )
        django.setup()
