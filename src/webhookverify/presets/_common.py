"""What every preset module builds with: the secret type, the naming rule, one
HMAC builder and the checks of settings several presets share.

The naming rule: a preset ``name`` reports configuration errors as
``presets.<name>`` (what the caller wrote) and ``Verification.scheme`` as
``<name with - for _>-<mechanism>``, the mechanism being ``hmac-<algorithm>``
for an HMAC, or the sender's own name for its signature version (``v1``,
``v3``), key type (``ed25519``) or format (``jws-hs256``, ``token``).
"""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Iterable
from typing import TYPE_CHECKING, Unpack

from .._checks import check_list
from ..errors import ConfigurationError, MalformedBody, MalformedHeader, SignatureMismatch
from ..keys import Secret
from ..types import ReplayMode
from ..verifiers import HmacVerifier, KeyValueHeader, TokenVerifier
from ..verifiers._base import check_tolerance
from ..verifiers._scheme import SchemeOptions
from ._protocol import HmacPreset, TokenPreset, speaks

if TYPE_CHECKING:
    from ..handshake import Handshake
    from ..routing import EventTypeReader

__all__ = [
    "STRIPE_LAYOUT",
    "HmacBased",
    "HmacWrapper",
    "SecretInput",
    "check_absolute_url",
    "check_json_after_url",
    "check_leeway",
    "check_no_dot",
    "check_windows",
    "hex_secret",
    "hex_secrets",
    "hmac_preset",
    "owner_of",
    "scheme_of",
    "token_preset",
]

SecretInput = Secret | str | bytes
"""A secret as a preset takes it: a ``Secret``, or its text (UTF-8) or bytes."""

STRIPE_LAYOUT = KeyValueHeader(signature_key="v1", timestamp_key="t", separator=",")
"""``t=<timestamp>,v1=<signature>[,v1=...]``: Stripe's signature header, which
Mux, Persona, Recurly and others copied."""


def owner_of(name: str) -> str:
    """How configuration errors name preset ``name``: ``presets.<name>``."""
    return f"presets.{name}"


def scheme_of(name: str, mechanism: str | None = None) -> str:
    """``Verification.scheme`` of preset ``name``: ``<name>-<mechanism>``, ``_`` as ``-``.

    Without ``mechanism``, the name part alone, for a verifier that appends
    the version that passed itself (Standard Webhooks: ``-v1``, ``-v1a``).
    """
    slug = name.replace("_", "-")
    return slug if mechanism is None else f"{slug}-{mechanism}"


def hmac_preset(
    name: str,
    *,
    secret: SecretInput | None,
    secrets: Iterable[SecretInput] | None,
    algorithm: str = "sha256",
    prefix: str = "",
    header_format: KeyValueHeader | None = None,
    mechanism: str | None = None,
    handshake: Handshake | None = None,
    read_event_type: EventTypeReader | None = None,
    **options: Unpack[SchemeOptions],
) -> HmacVerifier:
    """The ``HmacVerifier`` of preset ``name``, named by the rule above.

    Args:
        name: the preset's name, as in ``presets.PRESETS``.
        secret: as the caller passed it.
        secrets: as the caller passed them.
        algorithm: as for ``HmacVerifier``.
        prefix: as for ``HmacVerifier``.
        header_format: as for ``HmacVerifier``.
        options: as for ``HmacVerifier``.
        mechanism: what the scheme says after the name (default
            ``hmac-<algorithm>``).
        handshake: the sender's endpoint check; with it (or
            ``read_event_type``), the verifier is an ``HmacPreset`` that
            carries both.
        read_event_type: the sender's event type reader; with it (or
            ``handshake``), the verifier is an ``HmacPreset`` that carries
            both.

    Raises:
        ConfigurationError: any bad setting, in a message naming ``presets.<name>``.
    """
    speaking = handshake is not None or read_event_type is not None
    verifier = (HmacPreset if speaking else HmacVerifier)(
        secret=secret,
        secrets=secrets,
        algorithm=algorithm,
        prefix=prefix,
        header_format=header_format,
        scheme=scheme_of(name, mechanism or f"hmac-{algorithm}"),
        owner=owner_of(name),
        **options,
    )
    return speaks(verifier, handshake, read_event_type) if speaking else verifier


def hex_secret(name: str, secret: SecretInput, what: str) -> SecretInput:
    """A hex secret as the sender shows it, decoded; bytes and ``Secret`` as given.

    Raises:
        ConfigurationError: a text secret that is not hex (an empty one is
            left for the verifier to refuse as empty).
    """
    if not isinstance(secret, str) or not secret.strip():
        return secret
    try:
        return Secret.from_hex(secret)
    except ConfigurationError:
        raise ConfigurationError(
            f"{owner_of(name)} secret is not hex: pass the {what} exactly as shown"
        ) from None


def hex_secrets(
    name: str,
    secret: SecretInput | None,
    secrets: Iterable[SecretInput] | None,
    what: str,
) -> tuple[SecretInput | None, Iterable[SecretInput] | None]:
    """``secret`` and ``secrets`` with every text secret hex-decoded; both
    given are left for the verifier to refuse as both."""
    if secret is not None and secrets is not None:
        return secret, secrets
    if isinstance(secrets, str | bytes | Secret | None):
        return None if secret is None else hex_secret(name, secret, what), secrets
    items = check_list(secrets, "secrets", owner_of(name), hint="; use secret= for one")
    return secret, [hex_secret(name, s, what) for s in items]


def check_windows(
    name: str, tolerance: float | None, future_tolerance: float | None
) -> tuple[float | None, float | None]:
    """Check both tolerances of preset ``name``, for a verifier that checks them late.

    Raises:
        ConfigurationError: a negative or non-numeric tolerance.
    """
    owner = owner_of(name)
    return (
        check_tolerance(tolerance, "tolerance", owner),
        check_tolerance(future_tolerance, "future_tolerance", owner),
    )


def check_leeway(leeway: object, owner: str) -> float:
    """The clock skew a token's times are allowed: a finite number of seconds >= 0.

    Raises:
        ConfigurationError: anything else, naming ``leeway`` and ``owner``.
    """
    if (
        isinstance(leeway, bool)
        or not isinstance(leeway, int | float)
        or not math.isfinite(leeway)
        or leeway < 0
    ):
        raise ConfigurationError(f"{owner}(leeway=...) must be a non-negative number of seconds")
    return float(leeway)


def check_absolute_url(url: object, setting: str) -> str:
    """Return ``url`` if it is an absolute ``http(s)`` URL, else raise.

    Raises:
        ConfigurationError: not a ``str``, no scheme or host, or a scheme other
            than ``http``/``https``; the message names ``setting``.
    """
    if not isinstance(url, str) or not url:
        raise ConfigurationError(f"{setting} must be the full URL as a non-empty str")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ConfigurationError(f"{setting} is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"{setting} must be an absolute http:// or https:// URL, exactly as the sender "
            "was told to call it"
        )
    return url


def check_no_dot(nonce: str, header: str) -> str:
    """``nonce``, which the signed text joins to free text (a field, the body)
    with a ``.`` and nothing else to mark where it starts.

    A ``.`` in it would let the end of that text be moved into it, or back,
    under the same signature: the text changed, and the nonce, the replay
    key, new. Senders whose nonces are digits or ULIDs never send one.

    Raises:
        MalformedHeader: ``nonce`` holds a ``.``.
    """
    if "." in nonce:
        raise MalformedHeader(f"the {header} header holds a '.'", header=header)
    return nonce


def check_json_after_url(url: str, body: bytes, sender: str, header: str) -> None:
    """Make a request URL followed by a JSON body, signed run together, split one way.

    Nothing in ``<url><body>`` marks where the URL ends: bytes moved from its
    end to the body's start, or back, keep the signature and change the body
    and the replay key. A JSON body starts with ``{`` or ``[``, and a URL's
    path and query hold neither unescaped (RFC 3986 section 2), so with both
    rules held the body starts at the first of them after the host, or is empty.

    Args:
        url: the request URL, as signed.
        body: the raw body.
        sender: the provider's name, for the errors.
        header: the signature header, for the errors.

    Raises:
        MalformedBody: a body that is not empty and starts with neither.
        SignatureMismatch: a URL whose path or query holds a raw ``{`` or ``[``.
    """
    if body[:1] not in (b"", b"{", b"["):
        raise MalformedBody(
            f"{sender} sends a JSON body; this one starts with neither '{{' nor '['"
        )
    parts = urllib.parse.urlsplit(url)
    if any(mark in parts.path or mark in parts.query for mark in "{["):
        raise SignatureMismatch(
            f"the request URL holds a raw '{{' or '[', which {sender} percent-encodes: it is "
            f"not a URL {sender} signed",
            header=header,
        )


def token_preset(
    name: str,
    *,
    secret: SecretInput | None,
    secrets: Iterable[SecretInput] | None,
    header: str | None = None,
    username: str | None = None,
    handshake: Handshake | None = None,
) -> TokenVerifier:
    """The ``TokenVerifier`` of preset ``name``: a shared token in ``header``
    (scheme ``<name>-token``), or, without a header, HTTP Basic credentials in
    ``Authorization`` (scheme ``<name>-basic``, the user name checked when given).
    With ``handshake``, a ``TokenPreset`` that carries it.
    """
    if header is None:
        return TokenVerifier(
            secret=secret,
            secrets=secrets,
            basic=True,
            username=username,
            scheme=scheme_of(name, "basic"),
            owner=owner_of(name),
        )
    verifier = (TokenVerifier if handshake is None else TokenPreset)(
        secret=secret,
        secrets=secrets,
        header=header,
        scheme=scheme_of(name, "token"),
        owner=owner_of(name),
    )
    return verifier if handshake is None else speaks(verifier, handshake, None)


class HmacBased:
    """A preset verifier that checks its HMAC with an inner
    :class:`~webhookverify.HmacVerifier`: immutable, its keys the inner one's.

    A subclass passes the inner verifier to ``__init__``, defines ``verify``
    and ``sign``, and whichever of the handler's settings (windows, scheme,
    required headers, replay) it has.
    """

    __slots__ = ("_inner",)

    _inner: HmacVerifier

    def __init__(self, inner: HmacVerifier) -> None:
        object.__setattr__(self, "_inner", inner)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; build a new one")

    @property
    def secrets(self) -> tuple[Secret, ...]:
        return self._inner.secrets


class HmacWrapper(HmacBased):
    """A preset verifier that reshapes its signature header for an inner
    :class:`~webhookverify.HmacVerifier` (several signature sets, a layout the
    inner one cannot read) and is otherwise that verifier: its keys, windows,
    scheme, required headers and replay settings are the inner one's.

    A subclass passes the inner verifier to ``__init__`` and defines
    ``verify`` and ``sign``.
    """

    __slots__ = ()

    @property
    def tolerance(self) -> float | None:
        return self._inner.tolerance

    @property
    def future_tolerance(self) -> float | None:
        return self._inner.future_tolerance

    @property
    def scheme(self) -> str:
        return self._inner.scheme

    @property
    def required_headers(self) -> tuple[str, ...]:
        return self._inner.required_headers

    @property
    def replay_default(self) -> ReplayMode:
        return self._inner.replay_default

    @property
    def replay_window(self) -> float | None:
        return self._inner.replay_window
