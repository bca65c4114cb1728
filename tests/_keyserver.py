"""A local HTTPS server with a test CA, standing in for the providers' key hosts.

Every fetch in the tests goes here, over loopback, never to the internet:
the server's certificate (from a ``trustme`` CA) names the providers' real
hosts, and the fetcher's test hook (``Fetcher(ca=..., connect_to=...)``)
connects those names to this server while TLS and the host rules still judge
the real names. Routes answer fixed bytes, optionally after a delay, and
every hit is counted.
"""

from __future__ import annotations

import http.server
import ssl
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import trustme

from webhookverify.keyfetch import Fetcher

HOSTS = (
    "www.googleapis.com",
    "sns.us-east-1.amazonaws.com",
    "sns.us-east-2.amazonaws.com",
    "sns.cn-north-1.amazonaws.com.cn",
    "api.paypal.com",
    "api.sandbox.paypal.com",
    "production.plaid.com",
    "sandbox.plaid.com",
    "login.microsoftonline.com",
    "keys.example.test",
    "other.example.test",
    "sns.us-east-1.amazonaws.com.evil.example",
    "mastodon.social",
    "alice.example.social",
    "server.example",  # FEP-521a's example actor
)


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the body is sent
    trickle: float = 0.0  # seconds between bytes of the body


class KeyServer:
    """Answers ``routes[(host, path)]`` (or ``routes[path]``); counts hits."""

    def __init__(self) -> None:
        self.ca = trustme.CA()
        cert = self.ca.issue_cert(*HOSTS, "127.0.0.1")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(context)
        self.routes: dict[Any, Route] = {}
        self.hits: Counter[str] = Counter()
        self.bodies: list[bytes] = []
        self.accepts: list[str] = []  # the Accept header of each request
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _answer(self) -> None:
                host = (self.headers.get("Host") or "").split(":")[0]
                path = self.path.split("?")[0]
                length = int(self.headers.get("Content-Length") or 0)
                server.bodies.append(self.rfile.read(length) if length else b"")
                server.hits[f"{host}{path}"] += 1
                server.accepts.append(self.headers.get("Accept") or "")
                route = server.routes.get((host, path)) or server.routes.get(path)
                if route is None:
                    route = Route(b"not found", 404)
                time.sleep(route.delay)
                self.send_response(route.status)
                headers = {"Content-Length": str(len(route.body)), **route.headers}
                for name, value in headers.items():
                    if value == "omit":  # no length: the body ends when the connection closes
                        self.close_connection = True
                        continue
                    self.send_header(name, value)
                self.end_headers()
                try:
                    if route.trickle:
                        for byte in route.body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(route.trickle)
                    else:
                        self.wfile.write(route.body)
                except OSError:
                    pass

            do_GET = do_POST = _answer

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    def fetcher(self, **options: Any) -> Fetcher:
        """A fetcher that trusts the test CA and connects every known host here."""
        return Fetcher(
            ca=self.client_context(),
            connect_to=dict.fromkeys(HOSTS, ("127.0.0.1", self.port)),
            **options,
        )

    def reset(self) -> None:
        """Forget every route and every request seen."""
        self.routes.clear()
        self.hits.clear()
        self.bodies.clear()
        self.accepts.clear()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# The fixtures of every test module that fetches keys (imported by conftest.py):
# one server per module, reset before each test that takes ``fresh``.


@pytest.fixture(scope="module")
def server() -> Iterator[KeyServer]:
    server = KeyServer()
    yield server
    server.close()


@pytest.fixture
def fresh(server: KeyServer) -> KeyServer:
    server.reset()
    return server


# -- key material, made once per process ---------------------------------------------

_KEYS: dict[tuple[str, int], Any] = {}


def private_key(kind: str, index: int) -> Any:
    """The ``index``-th test key of ``kind`` (``rsa`` 2048-bit, ``ec`` P-256)."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if (kind, index) not in _KEYS:
        _KEYS[kind, index] = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if kind == "rsa"
            else ec.generate_private_key(ec.SECP256R1())
        )
    return _KEYS[kind, index]


def b64url(raw: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwk(key: Any, kid: str, **extra: Any) -> dict[str, Any]:
    """The public JWK of ``key`` (a private or public key), as providers publish it."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    public = key.public_key() if hasattr(key, "public_key") else key
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
        e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
        return {"kty": "RSA", "kid": kid, "use": "sig", "n": b64url(n), "e": b64url(e), **extra}
    assert isinstance(public, ec.EllipticCurvePublicKey)
    point = public.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "kid": kid,
        "use": "sig",
        "x": b64url(point.x.to_bytes(32, "big")),
        "y": b64url(point.y.to_bytes(32, "big")),
        **extra,
    }


def jwks(*keys: dict[str, Any]) -> bytes:
    import json

    return json.dumps({"keys": list(keys)}).encode()


def pem_public(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    public = key.public_key() if hasattr(key, "public_key") else key
    return public.public_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def certificate(
    key: Any, not_before: float, not_after: float, name: str = "sns.amazonaws.com"
) -> bytes:
    """A PEM certificate for ``key``'s public key, self-signed by a local test CA key."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    issuer_key = private_key("rsa", 99)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "webhookverify test CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime.fromtimestamp(not_before, datetime.UTC))
        .not_valid_after(datetime.datetime.fromtimestamp(not_after, datetime.UTC))
        .sign(issuer_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)
