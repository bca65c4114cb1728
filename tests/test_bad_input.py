"""Bad settings get a ConfigurationError, never a traceback, never a silent accept.

Every keyword of every preset and of the public constructors is given
values of the wrong type (found with ``inspect.signature``, so a new preset
or setting is covered as soon as it exists): each call either builds or
raises :class:`ConfigurationError`; no ``TypeError`` or ``AttributeError``
from deep inside. Where a wrong type used to be accepted with another
meaning (a ``str`` iterated as one-letter items, a table as its keys, the
text ``"false"`` as true), the call must now be refused.
"""

from __future__ import annotations

import inspect
import math
import typing
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from webhookverify import (
    ConfigurationError,
    Handler,
    HandlerRegistry,
    HmacVerifier,
    PublicKeyVerifier,
    Receiver,
    Secret,
    StandardWebhooksVerifier,
    TokenVerifier,
    WebhookError,
    WebhookRequest,
    asgi,
    presets,
    wsgi,
)
from webhookverify.httpsig import CavageSignatureVerifier, HttpMessageSignatureVerifier
from webhookverify.replay import MemoryReplayStore
from webhookverify.testing import sign_request

from _fetched_cases import FETCHED
from _fetched_cases import settings as fetched_settings
from fuzzing import URL

# Wrong in type or in range for nearly every setting; each must be refused
# with a ConfigurationError or be a value the setting really takes.
WRONG: dict[str, object] = {
    "int": 7,
    "negative": -5,
    "float": 1.5,
    "nan": math.nan,
    "inf": math.inf,
    "bool": True,
    "bytes": b"abc",
    "str": "abc",
    "empty str": "",
    "list": ["abc"],
    "empty list": [],
    "table": {"a": 1},
    "object": object(),
}
SECRET = "whsec_" + "QUJD" * 8  # base64 too, as Standard Webhooks secrets must be
HEX_SECRET = SECRET.encode().hex()


def preset_settings(name: str) -> dict[str, Any]:
    """Settings with which preset ``name`` builds: the base the wrong values replace."""
    if name in FETCHED:
        return fetched_settings(name)
    if name == "apple_app_store":
        return {"bundle_id": "com.example", "app_apple_id": 1234}
    if name in ("discord", "telnyx"):
        return {"public_key": ed25519.Ed25519PrivateKey.generate().public_key()}
    if name == "sendgrid":
        return {"public_key": ec.generate_private_key(ec.SECP256R1()).public_key()}
    base: dict[str, Any] = {
        "secret": HEX_SECRET if name in ("adyen", "close", "squarespace") else SECRET
    }
    if name == "monday":
        base["url"] = URL
    elif name == "braintree":
        base["public_key"] = "public_key"
    elif name == "trello":
        base["callback_url"] = URL
    return base


def keywords(factory: Callable[..., Any]) -> list[str]:
    parameters = inspect.signature(factory).parameters.values()
    return [p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]


def replaced(base: dict[str, Any], setting: str, value: object) -> dict[str, Any]:
    """``base`` with ``setting`` set to ``value`` (and its singular/plural twin dropped)."""
    twins = {"secrets": "secret", "secret": "secrets", "public_keys": "public_key"}
    out = {k: v for k, v in base.items() if k != twins.get(setting)}
    out[setting] = value
    return out


def builds_or_refuses(factory: Callable[..., Any], options: dict[str, Any]) -> None:
    """The call builds, or raises ConfigurationError with a one-line message."""
    try:
        factory(**options)
    except ConfigurationError as exc:  # anything else fails the test, with its traceback
        message = str(exc)
    else:
        return
    assert message and "\n" not in message


@pytest.mark.parametrize("name", presets.PRESETS)
def test_every_preset_setting_refuses_a_wrong_type_cleanly(name: str) -> None:
    factory = getattr(presets, name)
    base = preset_settings(name)
    factory(**base)  # the base builds
    for setting in keywords(factory):
        for value in WRONG.values():
            builds_or_refuses(factory, replaced(base, setting, value))


_KEY = ed25519.Ed25519PrivateKey.generate()
_HMAC = HmacVerifier(secret="s", header="X-Sig")
_HANDLER = Handler("a", _HMAC)
_RECEIVER = Receiver(HandlerRegistry([Handler("a", _HMAC)]))


def _scheme_options() -> list[str]:
    from webhookverify.verifiers._scheme import SchemeOptions

    return list(typing.get_type_hints(SchemeOptions))


def _adapter_options() -> list[str]:
    from webhookverify._options import AdapterSettings

    return list(typing.get_type_hints(AdapterSettings))


CONSTRUCTORS: list[tuple[Callable[..., Any], dict[str, Any], list[str]]] = [
    (HmacVerifier, {"secret": "s", "header": "X-Sig"}, _scheme_options()),
    (
        PublicKeyVerifier,
        {"algorithm": "ed25519", "public_key": _KEY.public_key(), "header": "X-Sig"},
        _scheme_options(),
    ),
    (StandardWebhooksVerifier, {"secret": SECRET}, []),
    (TokenVerifier, {"secret": "s", "header": "X-Token"}, []),
    (HttpMessageSignatureVerifier, {"keys": {"k": ("ed25519", _KEY.public_key())}}, []),
    (CavageSignatureVerifier, {"keys": {"k": _KEY.public_key()}, "algorithms": ("hs2019",)}, []),
    (Handler, {"name": "h", "verifier": _HMAC}, []),
    (HandlerRegistry, {"handlers": [Handler("a", _HMAC)]}, []),
    (Receiver, {"registry": _RECEIVER.registry}, []),
    (wsgi.WebhookApp, {"receiver": _RECEIVER}, _adapter_options()),
    (asgi.WebhookApp, {"receiver": _RECEIVER}, _adapter_options()),
    (wsgi.WebhookMiddleware, {"app": lambda e, s: [], "receiver": _RECEIVER, "path": "/h"}, []),
    (
        asgi.WebhookMiddleware,
        {"app": lambda s, r, w: None, "receiver": _RECEIVER, "path": "/h"},
        [],
    ),
    (MemoryReplayStore, {}, []),
    (Secret, {"value": "abc"}, []),
]


@pytest.mark.parametrize(
    ("factory", "base", "extra"), CONSTRUCTORS, ids=[f.__qualname__ for f, _, _ in CONSTRUCTORS]
)
def test_every_constructor_setting_refuses_a_wrong_type_cleanly(
    factory: Callable[..., Any], base: dict[str, Any], extra: list[str]
) -> None:
    factory(**base)
    for setting in [*keywords(factory), *extra]:
        for value in [None, *WRONG.values()]:
            builds_or_refuses(factory, replaced(base, setting, value))


# What used to be accepted with another meaning than the caller's.
SILENT: list[tuple[str, Callable[[], Any]]] = [
    # a table iterated as its keys: the secret would be "k"
    ("HmacVerifier secrets={...}", lambda: HmacVerifier(secrets={"k": "v"}, header="X-Sig")),
    ("TokenVerifier secrets={...}", lambda: TokenVerifier(secrets={"k": "v"}, header="X-T")),
    ("github secrets={...}", lambda: presets.github(secrets={"k": "v"})),
    ("twilio shared_keys={...}", lambda: presets.twilio(secret="t", shared_keys={"k": "v"})),
    # a str iterated as one-letter items
    (
        "microsoft_graph client_states='abc'",
        lambda: presets.microsoft_graph(client_states="abc"),
    ),
    (
        "microsoft_graph tenant_ids='abc'",
        lambda: presets.microsoft_graph(client_state="state", tenant_ids="abc"),
    ),
    (
        "microsoft_graph client_state and client_states",
        lambda: presets.microsoft_graph(client_state="one", client_states=["two"]),
    ),
    (
        "google_oidc audience={...}",
        lambda: presets.google_oidc(audience={"a": 1}, service_account="s@x"),
    ),
    ("methods={...}", lambda: wsgi.WebhookApp(_RECEIVER, methods={"POST": 1})),
    (
        "passthrough_methods={...}",
        lambda: wsgi.WebhookMiddleware(
            lambda e, s: [], _RECEIVER, path="/h", passthrough_methods={"GET": 1}
        ),
    ),
    (
        "required_components={...}",
        lambda: HttpMessageSignatureVerifier(
            keys={"k": ("ed25519", _KEY.public_key())}, required_components={"@method": 1}
        ),
    ),
    # any object taken as true or false
    ("github legacy_sha1='no'", lambda: presets.github(secret="s", legacy_sha1="no")),
    ("TokenVerifier basic='no'", lambda: TokenVerifier(secret="s", basic="no")),
    ("Handler enabled='false'", lambda: Handler("h", _HMAC, enabled="false")),
    ("HandlerRegistry enabled='off'", lambda: HandlerRegistry([], enabled="off")),
    ("HandlerRegistry strict='yes'", lambda: HandlerRegistry([], strict="yes")),
    (
        "Cavage allow_weak_rsa='no'",
        lambda: CavageSignatureVerifier(keys={"k": _KEY.public_key()}, allow_weak_rsa="no"),
    ),
    (
        "Cavage require_digest='yes'",
        lambda: CavageSignatureVerifier(keys={"k": _KEY.public_key()}, require_digest="yes"),
    ),
    # a user no one is
    ("Handler user=''", lambda: Handler("h", _HMAC, user="")),
    # a number where a header name or a text goes
    ("TokenVerifier header=5", lambda: TokenVerifier(secret="s", header=5)),
    ("TokenVerifier prefix=5", lambda: TokenVerifier(secret="s", header="X-T", prefix=5)),
    ("chargebee username=5", lambda: presets.chargebee(secret="s", username=5)),
    # what fails only when the first request comes
    ("paypal keys=5", lambda: presets.paypal(webhook_id="W", keys=5)),
    (
        "google_oidc fetcher=5",
        lambda: presets.google_oidc(audience="a", service_account="s@x", fetcher=5),
    ),
    ("Receiver bus=5", lambda: Receiver(_RECEIVER.registry, 5)),
    ("MemoryReplayStore clock=5", lambda: MemoryReplayStore(clock=5)),
    # longer than a replay store keeps a key: every delivery would answer 503
    ("Handler replay_ttl=1e12", lambda: Handler("h", _HMAC, replay_ttl=1e12)),
    (
        "Handler of a verifier with tolerance=1e12",
        lambda: Handler("h", presets.stripe(secret=SECRET, tolerance=1e12)),
    ),
    ("Receiver lease=1e12", lambda: Receiver(_RECEIVER.registry, lease=1e12)),
    # falsy, so the verifier's own was used instead
    ("Handler handshake=''", lambda: Handler("h", _HMAC, handshake="")),
    ("Handler read_event_type=0", lambda: Handler("h", _HMAC, read_event_type=0)),
    # a registry changed with something that is not a handler
    ("HandlerRegistry.replace(5)", lambda: HandlerRegistry([]).replace(5)),
    ("HandlerRegistry.add(position='1')", lambda: HandlerRegistry([]).add(_HANDLER, position="1")),
    # never expires
    ("Handler replay_ttl=nan", lambda: Handler("h", _HMAC, replay_ttl=math.nan)),
    ("Handler replay_ttl=inf", lambda: Handler("h", _HMAC, replay_ttl=math.inf)),
    (
        "google_oidc leeway=nan",
        lambda: presets.google_oidc(audience="a", service_account="s@x", leeway=math.nan),
    ),
]


@pytest.mark.parametrize("build", [b for _, b in SILENT], ids=[i for i, _ in SILENT])
def test_a_setting_with_another_meaning_is_refused(build: Callable[[], Any]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        build()
    assert "\n" not in str(caught.value)


def test_a_non_finite_time_never_passes_a_freshness_check() -> None:
    # nan compares false with everything: "older than the window?" was "no"
    verifier = presets.stripe(secret=SECRET)
    request = sign_request(verifier, b"{}", now=1_000.0)
    with pytest.raises(WebhookError):
        verifier.verify(request, now=math.nan)
    for when in (math.nan, math.inf, -math.inf):
        with pytest.raises(WebhookError, match="received_at"):
            WebhookRequest(method="POST", url="", headers=[], body=b"", received_at=when)


def test_a_window_longer_than_a_store_keeps_a_key_is_fine_without_replay() -> None:
    verifier = presets.stripe(secret=SECRET, tolerance=1e12)
    assert Handler("h", verifier, replay="off").replay_mode == "off"
