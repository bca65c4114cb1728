"""A minimal Django project that receives webhooks: no database, no apps."""

import os

from django.core.exceptions import ImproperlyConfigured


def required_env(name: str, how: str) -> str:
    """A setting read from the environment, with no default to fall back on."""
    value = os.environ.get(name, "")
    if not value:
        raise ImproperlyConfigured(f"{name} is not set: export {name}={how}")
    return value


SECRET_KEY = required_env(
    "DJANGO_SECRET_KEY", "\"$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')\""
)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "hooksite.urls"
WSGI_APPLICATION = "hooksite.wsgi.application"
INSTALLED_APPS: list[str] = []
DATABASES: dict[str, dict[str, str]] = {}
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]
USE_TZ = True

# Where GitHub's webhook secret comes from: keep it out of the code.
GITHUB_WEBHOOK_SECRET = required_env(
    "GITHUB_WEBHOOK_SECRET", "'...' (the secret in GitHub's webhook settings)"
)
