"""webhookverify.django reads the body a real sender sent, whatever Django's own
body handling would do with it.

Django's ``WSGIRequest`` reads no body at all without a ``Content-Length``
(its stream is limited to ``CONTENT_LENGTH or 0``), so a chunked delivery
under gunicorn reached the verifier as an empty body and was refused 401;
and ``request.body`` refuses any body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``
(2.5 MB by default) with a 400, whatever ``max_body_size`` the view was
given. Both lost correctly signed deliveries.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("django")

from _django_config import configure_django

configure_django()

from django.core.handlers.wsgi import WSGIRequest  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import override_settings  # noqa: E402

from webhookverify import Delivery, Handler, HandlerRegistry, Receiver, presets  # noqa: E402
from webhookverify.django import webhook_view  # noqa: E402
from webhookverify.testing import make_environ, sign_request  # noqa: E402

SECRET = "django-bodies-secret"
GITHUB = presets.github(secret=SECRET)


def hook(max_body_size: int = 1024 * 1024) -> tuple[Any, list[bytes]]:
    """A ``webhook_view`` and the bodies of the deliveries it ran for."""
    ran: list[bytes] = []
    receiver = Receiver(HandlerRegistry([Handler("github", GITHUB, user="ci-bot")]))

    @webhook_view(receiver, max_body_size=max_body_size)
    def view(request: Any, delivery: Delivery) -> HttpResponse:
        ran.append(delivery.body)
        return HttpResponse(status=204)

    return view, ran


def wsgi_request(body: bytes, **environ: Any) -> WSGIRequest:
    """The request Django builds from a server's environ for a signed ``body``."""
    signed = sign_request(GITHUB, body, url="http://127.0.0.1/hooks")
    return WSGIRequest(make_environ(signed, **environ))


def test_a_chunked_delivery_under_wsgi_is_read_from_the_server_input() -> None:
    # gunicorn: no Content-Length, the input marked terminated
    view, ran = hook()
    body = b'{"action": "opened", "number": 7}'
    answer = view(wsgi_request(body, chunked=True))
    assert answer.status_code == 204
    assert ran == [body]


def test_a_chunked_delivery_past_the_limit_is_413() -> None:
    view, ran = hook(max_body_size=16)
    answer = view(wsgi_request(b'{"pad": "' + b"x" * 64 + b'"}', chunked=True))
    assert answer.status_code == 413
    assert ran == []


def test_a_chunked_delivery_on_a_server_that_cannot_end_it_is_411() -> None:
    # the input is not marked terminated: the body cannot be read to its end,
    # and the sender is told to send a length (not that its signature failed)
    view, ran = hook()
    answer = view(wsgi_request(b'{"a": 1}', chunked=True, input_terminated=False))
    assert answer.status_code == 411
    assert ran == []


def test_a_body_over_django_upload_limit_within_max_body_size_is_accepted() -> None:
    view, ran = hook(max_body_size=8192)
    body = b'{"pad": "' + b"x" * 4096 + b'"}'
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024):
        answer = view(wsgi_request(body))
    assert answer.status_code == 204
    assert ran == [body]


def test_a_body_over_max_body_size_is_still_413_before_reading() -> None:
    view, ran = hook(max_body_size=1024)
    request = wsgi_request(b'{"pad": "' + b"x" * 4096 + b'"}')
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=None):
        assert view(request).status_code == 413
    assert ran == []


def test_a_tampered_chunked_delivery_is_still_refused() -> None:
    view, ran = hook()
    signed = sign_request(GITHUB, b'{"amount": 1}', url="http://127.0.0.1/hooks")
    environ = make_environ(signed, body=b'{"amount": 9}', chunked=True)
    assert view(WSGIRequest(environ)).status_code == 401
    assert ran == []
