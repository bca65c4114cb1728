"""The Django project ``test_django_servers.py`` serves, in one module: its
settings, its URLs and its views. ``wsgi`` is for gunicorn, ``asgi`` for
uvicorn; ``POST /hooks/sync`` is a sync ``webhook_view`` and
``POST /hooks/async`` an ``async def`` one, each running the user's code of
``served_hooks.py`` with its own receiver. CSRF protection is on, as in a
new project: the views must be exempt from it."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import django
from django.conf import settings

from served_hooks import RUNS_ENV, answer_body, new_receiver, run_code

settings.configure(
    DEBUG=False,
    SECRET_KEY="django-served-tests-only",
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
    ],
    USE_TZ=True,
)
django.setup()

from django.core.asgi import get_asgi_application  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402

from webhookverify import Delivery  # noqa: E402
from webhookverify.django import webhook_view  # noqa: E402

RUNS_FILE = os.environ[RUNS_ENV]


@webhook_view(new_receiver())
def sync_hook(request: HttpRequest, delivery: Delivery) -> JsonResponse:
    return JsonResponse(answer_body(delivery), status=run_code(delivery, RUNS_FILE))


@webhook_view(new_receiver())
async def async_hook(request: HttpRequest, delivery: Delivery) -> JsonResponse:
    await asyncio.sleep(0)  # a coroutine the event loop runs, not a thread
    return JsonResponse(answer_body(delivery), status=run_code(delivery, RUNS_FILE))


urlpatterns: list[Any] = [path("hooks/sync", sync_hook), path("hooks/async", async_hook)]

wsgi = get_wsgi_application()
asgi = get_asgi_application()
