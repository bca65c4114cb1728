"""Signed deliveries for tests, sent through each framework's own test client.

:class:`WebhookSigner` signs a delivery as a sender would, for a preset by
name, a verifier, a handler, or a handler of your configuration;
:class:`SignedDelivery` sends it through Django's ``Client``, Flask's test
client, Starlette's and FastAPI's ``TestClient``, aiohttp's ``TestClient``,
or a Lambda handler, or builds a WSGI environ, an ASGI scope or a Lambda
event from it. The pytest plugin (:mod:`webhookverify.pytest_plugin`) hands
out a :class:`WebhookSigner` as the ``webhook_signer`` fixture::

    def test_github_delivery(client, webhook_signer):
        signed = webhook_signer.sign("github", b'{"action": "opened"}', secret="s3cr3t")
        assert signed.send_flask(client).status_code == 200
        assert signed.tampered().send_flask(client).status_code == 401

Nothing here imports a framework: each ``send_*`` uses the client given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .config import load_handler
from .errors import ConfigurationError
from .receiver import Receiver
from .registry import Handler, HandlerRegistry
from .request import WebhookRequest
from .testing import make_environ, make_scope, sign_request

__all__ = ["DEFAULT_BASE_URL", "SignedDelivery", "WebhookSigner"]

# The host Django's and Starlette's test clients send (Flask's sends
# "localhost"); only schemes that sign the URL care, and they take url=.
DEFAULT_BASE_URL = "http://testserver"

# Headers each client sets itself from the body: sent twice, they would disagree.
_CLIENT_SET = frozenset({"content-length", "host"})


@dataclass(frozen=True, slots=True)
class SignedDelivery:
    """A delivery signed as its sender would send it, ready for a test client.

    Attributes:
        request: the signed :class:`~webhookverify.WebhookRequest`.
    """

    request: WebhookRequest

    @property
    def body(self) -> bytes:
        return self.request.body

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def path(self) -> str:
        """The path and query the request goes to (``/webhooks?x=1``)."""
        url = self.request.url
        rest = url.split("://", 1)[-1]
        slash = rest.find("/")
        return rest[slash:] if slash >= 0 else "/"

    @property
    def headers(self) -> dict[str, str]:
        """The headers to send (signature headers and Content-Type; repeats joined)."""
        found: dict[str, str] = {}
        for name, value in self.request.headers.raw_items():
            if name.lower() not in _CLIENT_SET:
                found[name] = f"{found[name]}, {value}" if name in found else value
        return found

    def tampered(self) -> SignedDelivery:
        """The same headers with one body byte changed: every check must refuse it."""
        body = self.body or b"\x00"
        changed = body[:-1] + bytes([body[-1] ^ 0x01])
        return SignedDelivery(self.request.replace(body=changed))

    def environ(self, **options: Any) -> dict[str, Any]:
        """A WSGI environ (:func:`webhookverify.testing.make_environ`)."""
        return make_environ(self.request, **options)

    def scope(self, **options: Any) -> dict[str, Any]:
        """An ASGI scope (:func:`webhookverify.testing.make_scope`); send ``body`` with it."""
        return make_scope(self.request, **options)

    def lambda_event(self, kind: str = "v2", **options: Any) -> dict[str, Any]:
        """An API Gateway (``"v1"``, ``"v2"``) or function URL (``"url"``) event."""
        from .lambda_events import make_lambda_event

        return make_lambda_event(self.request, kind, **options)  # type: ignore[arg-type]

    def send_django(self, client: Any, **extra: Any) -> Any:
        """Send through ``django.test.Client`` (or ``AsyncClient``: await the result)."""
        headers = self.headers
        content_type = _pop(headers, "content-type") or "application/octet-stream"
        return client.generic(
            self.method, self.path, self.body, content_type=content_type, headers=headers, **extra
        )

    def send_flask(self, client: Any, **extra: Any) -> Any:
        """Send through Flask's (Werkzeug's) test client."""
        return client.open(
            self.path, method=self.method, data=self.body, headers=self.headers, **extra
        )

    def send_starlette(self, client: Any, **extra: Any) -> Any:
        """Send through Starlette's or FastAPI's ``TestClient`` (or any httpx client)."""
        return client.request(
            self.method, self.path, content=self.body, headers=self.headers, **extra
        )

    send_fastapi = send_starlette
    send_httpx = send_starlette

    async def send_aiohttp(self, client: Any, **extra: Any) -> Any:
        """Send through ``aiohttp.test_utils.TestClient``."""
        return await client.request(
            self.method, self.path, data=self.body, headers=self.headers, **extra
        )

    def send_lambda(self, handler: Any, kind: str = "v2", context: Any = None) -> Any:
        """Invoke a Lambda handler with this delivery's event, as API Gateway would."""
        return handler(self.lambda_event(kind), context)


def _pop(headers: dict[str, str], name: str) -> str | None:
    for key in list(headers):
        if key.lower() == name:
            return headers.pop(key)
    return None


class WebhookSigner:
    """Signs deliveries for tests.

    Args:
        base_url: where deliveries go when ``url`` is not given (the path
            is appended); default ``http://testserver``.
        now: the signing time for every delivery (default: the clock).
    """

    def __init__(self, *, base_url: str = DEFAULT_BASE_URL, now: float | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.now = now

    def sign(
        self,
        source: Any,
        body: bytes | str = b"{}",
        *,
        handler: str | None = None,
        secret: Any = None,
        path: str = "/webhooks",
        url: str | None = None,
        method: str = "POST",
        headers: Mapping[str, str] | None = None,
        now: float | None = None,
        preset_options: Mapping[str, Any] | None = None,
        **parts: str,
    ) -> SignedDelivery:
        """Sign ``body`` for ``source``, as its sender would.

        Args:
            source: a preset's name (with ``secret=``: ``"github"``,
                ``"stripe"``, ...), a verifier, a :class:`~webhookverify.Handler`,
                or a :class:`~webhookverify.HandlerRegistry`,
                :class:`~webhookverify.Receiver` or configuration (a TOML
                path or a mapping, as ``load_registry`` takes) with
                ``handler=`` naming the handler.
            body: the raw body (``str`` is encoded as UTF-8).
            secret: the preset's secret (a preset's name only).
            path: where the delivery goes (signed by the schemes that sign
                the URL).
            url: the whole URL instead (it wins over ``path``).
            headers: more headers to send (``X-GitHub-Event``, ...).
            now: when it is signed (default: the signer's ``now``, else the clock).
            preset_options: more keywords for the preset (a preset's name only).
            parts: passed to the verifier's ``sign`` (``id=``, ``timestamp=``, ...).

        Raises:
            ConfigurationError: an unknown preset or handler (the nearest name
                is given), or ``source`` is none of the above.
        """
        verifier = self.verifier(source, handler=handler, secret=secret, options=preset_options)
        signed_parts: dict[str, Any] = parts  # for the verifier's sign(), not sign_request's own
        request = sign_request(
            verifier,
            body,
            now=self.now if now is None else now,
            method=method,
            url=url or f"{self.base_url}{path}",
            headers=headers,
            **signed_parts,
        )
        return SignedDelivery(request)

    @staticmethod
    def verifier(
        source: Any,
        *,
        handler: str | None = None,
        secret: Any = None,
        options: Mapping[str, Any] | None = None,
    ) -> Any:
        """The verifier that signs for ``source`` (see :meth:`sign`)."""
        if isinstance(source, str) and handler is None:
            if secret is None:
                raise ConfigurationError(
                    f"webhook_signer.sign({source!r}, ...) needs secret=, the secret the "
                    "handler under test is configured with"
                )
            item = {"name": source, "preset": source, "secret": secret, **(options or {})}
            config = {"handlers": [item], "allow_inline_secrets": True}
            return load_handler(config, source).verifier
        if isinstance(source, Handler):
            return source.verifier
        if handler is not None:
            registry = source.registry if isinstance(source, Receiver) else source
            if isinstance(registry, HandlerRegistry):
                found = registry.get(handler)
                if found is None:
                    names = ", ".join(h.name for h in registry)
                    raise ConfigurationError(
                        f"webhook_signer.sign(handler={handler!r}): no such handler; "
                        f"the handlers are {names}"
                    )
                return found.verifier
            return load_handler(source, handler).verifier
        if callable(getattr(source, "sign", None)):
            return source
        raise ConfigurationError(
            "webhook_signer.sign(source, ...) takes a preset name with secret=, a verifier, "
            "a Handler, or a registry, receiver or configuration with handler="
        )
