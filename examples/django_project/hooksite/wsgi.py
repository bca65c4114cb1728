"""WSGI entry point: Django, with webhooks verified in front of it.

cd examples/django_project && gunicorn hooksite.wsgi:application
"""

import os

from django.core.wsgi import get_wsgi_application

from webhookverify.wsgi import WebhookMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hooksite.settings")
django_app = get_wsgi_application()

from .webhooks import receiver  # noqa: E402 - reads the settings, so after setup

application = WebhookMiddleware(django_app, receiver, path="/webhooks/github")
