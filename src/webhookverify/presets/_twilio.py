"""Twilio's ``X-Twilio-Signature``: an HMAC over the URL and the form fields.

Twilio signs the full URL it called (query included) followed by every POST
form field, sorted by name, each distinct value appended as ``name + value``
(values decoded, no separators). For JSON bodies it signs the URL alone and
puts ``bodySHA256=<hex SHA-256 of the body>`` in that URL's query, so the body
is covered through its hash; both checks must pass.

The key and hash: the account Auth Token with HMAC-SHA1, unless a Webhooks
Rule applies a Setting with a SharedKey (public beta). Twilio then signs with
that SharedKey's secret and the Setting's algorithm (HMAC_SHA1 or
HMAC_SHA256) and says so in ``X-Twilio-Webhooks-Signature-Settings:
key=<id>,algorithm=<algorithm>``. That header is not signed, so it only picks
which configured key set to use and names an algorithm that must be among
those pinned by configuration.

Twilio's SDKs try the URL both with and without the port (with the scheme's
default port added when none is given), "since sig generation on back end is
inconsistent"; so does this verifier.

Sources: twilio/twilio-python ``twilio/request_validator.py``; Twilio docs
"Webhooks security" (https://www.twilio.com/docs/usage/webhooks/webhooks-security)
and "Sign webhooks with shared keys"
(https://www.twilio.com/docs/usage/webhooks/webhook-shared-keys); twilio-node
``examples/WebhookSignatureValidation.md``.
"""

from __future__ import annotations

import hashlib
import hmac as _hmac
import time
from collections.abc import Iterable
from typing import Literal

from ..errors import (
    ConfigurationError,
    DuplicateHeader,
    MalformedBody,
    MalformedSignature,
    MissingHeader,
    NoValidKey,
    SignatureMismatch,
    UnsupportedSignatureVersion,
)
from ..keys import Secret, to_secrets
from ..request import WebhookRequest
from ..verifiers import Verification
from ..verifiers._base import (
    ReplayMode,
    constant_time_equal,
    decode_signature,
    encode_signature,
    single_header,
)
from ._common import SecretInput, check_absolute_url, owner_of, scheme_of
from ._twilio_message import BODY_HASH_PARAM, body_hash_param, form_tail, twilio_url_variants

__all__ = [
    "SETTINGS_HEADER",
    "SIGNATURE_HEADER",
    "TwilioVerifier",
    "twilio",
    "twilio_url_variants",
]

SIGNATURE_HEADER = "X-Twilio-Signature"
SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"

# The names Twilio uses in the settings header, and the only ones it signs with.
_ALGORITHMS = {"HMAC_SHA1": "sha1", "HMAC_SHA256": "sha256"}
_WIRE_NAMES = {v: k for k, v in _ALGORITHMS.items()}


class TwilioVerifier:
    """Verify ``X-Twilio-Signature`` (form posts and ``bodySHA256`` JSON posts).

    Args:
        secret / secrets: the account Auth Token(s), oldest first (primary and
            secondary during rotation); used with HMAC-SHA1 when the request
            has no ``X-Twilio-Webhooks-Signature-Settings`` header.
        public_url: the URL Twilio was told to call, exactly (query included);
            defaults to each request's own URL.
        shared_key / shared_keys: SharedKey secret(s) of a Webhook Setting,
            used when the settings header is present.
        shared_key_algorithms: the algorithms a SharedKey request may use,
            ``"sha256"`` and/or ``"sha1"``; the settings header selects within
            this set and nothing outside it.

    Raises:
        ConfigurationError: no key at all, an empty key, an unknown algorithm,
            or a ``public_url`` that is not an absolute http(s) URL.
    """

    __slots__ = ("public_url", "secrets", "shared_key_algorithms", "shared_keys")

    secrets: tuple[Secret, ...]
    shared_keys: tuple[Secret, ...]
    shared_key_algorithms: frozenset[str]
    public_url: str | None

    def __init__(
        self,
        *,
        secret: SecretInput | None = None,
        secrets: Iterable[SecretInput] | None = None,
        public_url: str | None = None,
        shared_key: SecretInput | None = None,
        shared_keys: Iterable[SecretInput] | None = None,
        shared_key_algorithms: Iterable[str] = ("sha256",),
    ) -> None:
        owner = owner_of("twilio")
        tokens: tuple[Secret, ...] = ()
        if secret is not None or secrets is not None:
            tokens = to_secrets(secret, secrets, owner=owner)
        shared: tuple[Secret, ...] = ()
        if shared_key is not None or shared_keys is not None:
            shared = to_secrets(shared_key, shared_keys, owner=f"{owner}(shared_key...)")
        if not tokens and not shared:
            raise ConfigurationError(
                f"{owner} needs the Auth Token (secret= or secrets=) or a SharedKey secret "
                "(shared_key= or shared_keys=)"
            )
        if isinstance(shared_key_algorithms, str) or not isinstance(
            shared_key_algorithms, Iterable
        ):
            raise ConfigurationError(f"{owner}(shared_key_algorithms=...) takes a tuple")
        algorithms = frozenset(shared_key_algorithms)
        if not algorithms or not algorithms <= frozenset(_WIRE_NAMES):
            raise ConfigurationError(
                f"{owner}(shared_key_algorithms=...) must name 'sha256' and/or 'sha1', the "
                "algorithms Twilio signs with"
            )
        set_ = object.__setattr__
        set_(self, "secrets", tokens)
        set_(self, "shared_keys", shared)
        set_(self, "shared_key_algorithms", algorithms)
        set_(
            self,
            "public_url",
            None
            if public_url is None
            else check_absolute_url(public_url, f"{owner}(public_url=...)"),
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("TwilioVerifier is immutable; build a new one")

    @property
    def required_headers(self) -> tuple[str, ...]:
        if self.secrets:
            return (SIGNATURE_HEADER,)
        return (SIGNATURE_HEADER, SETTINGS_HEADER)

    @property
    def replay_default(self) -> ReplayMode:
        return "content"  # nothing identifies a delivery under the signature

    @property
    def replay_window(self) -> float | None:
        return None  # no timestamp is signed

    # -- verification --------------------------------------------------------------

    def _keys_and_algorithm(self, request: WebhookRequest) -> tuple[tuple[Secret, ...], str]:
        settings = request.headers.get_all(SETTINGS_HEADER)
        if len(settings) > 1:
            raise DuplicateHeader(
                f"the {SETTINGS_HEADER} header appears more than once", header=SETTINGS_HEADER
            )
        if not settings:
            if not self.secrets:
                raise MissingHeader(
                    f"the {SETTINGS_HEADER} header is missing: only SharedKey secrets are "
                    "configured (set secret= to accept Auth Token signatures)",
                    header=SETTINGS_HEADER,
                )
            return self.secrets, "sha1"
        # twilio-python get_signature_algorithm: "key=...,algorithm=..."; no
        # algorithm means HMAC_SHA1.
        wire = "HMAC_SHA1"
        for item in settings[0].split(","):
            name, eq, value = item.partition("=")
            if eq and name.strip() == "algorithm" and value.strip():
                wire = value.strip().upper()
        algorithm = _ALGORITHMS.get(wire)
        if algorithm is None or algorithm not in self.shared_key_algorithms:
            raise UnsupportedSignatureVersion(
                f"{SETTINGS_HEADER} names an algorithm this verifier does not accept "
                "(check shared_key_algorithms=)",
                header=SETTINGS_HEADER,
            )
        if not self.shared_keys:
            raise UnsupportedSignatureVersion(
                f"the request is signed with a SharedKey ({SETTINGS_HEADER}); set "
                "shared_key= to accept it",
                header=SETTINGS_HEADER,
            )
        return self.shared_keys, algorithm

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify ``request``; return what was proved or raise a ``VerificationError``.

        Raises:
            MalformedBody: no ``bodySHA256`` in the URL and the body is not
                form data.
            SignatureMismatch: no key and URL form match, or the body does
                not hash to the URL's ``bodySHA256``.
        """
        moment = request.received_at if now is None else now
        text = single_header(request, SIGNATURE_HEADER)
        keys, algorithm = self._keys_and_algorithm(request)
        signature = decode_signature(text, "base64", SIGNATURE_HEADER)
        if len(signature) != hashlib.new(algorithm).digest_size:
            raise MalformedSignature(
                f"the signature in {SIGNATURE_HEADER} is not a base64 HMAC-"
                f"{algorithm.upper()} digest",
                header=SIGNATURE_HEADER,
            )
        url = self.public_url or request.url
        if not url:
            raise SignatureMismatch(
                "Twilio signs the URL it called, and this request has none (set public_url=)"
            )
        expected_hash = body_hash_param(url)
        tail = b"" if expected_hash is not None else form_tail(request)
        valid = [(i, s) for i, s in enumerate(keys) if s.is_valid_at(moment)]
        if not valid:
            raise NoValidKey()
        for candidate in twilio_url_variants(url):
            head = candidate.encode("utf-8")
            for index, secret in valid:
                mac = _hmac.new(secret.value, head, algorithm)
                mac.update(tail)
                if not constant_time_equal(mac.digest(), signature):
                    continue
                # One part, as signed: the URL and the fields run together, so
                # bytes moved from one to the other (the first field to the
                # URL's end) keep the signature, and must keep the replay key.
                signed: tuple[bytes, ...] = (head + tail,)
                if expected_hash is not None:
                    actual = hashlib.sha256(request.body).hexdigest().encode("ascii")
                    if not constant_time_equal(actual, expected_hash.encode("utf-8")):
                        raise SignatureMismatch(
                            f"the body does not hash to the {BODY_HASH_PARAM} value in the URL"
                        )
                    signed = (head, request.body)
                return Verification(
                    scheme=scheme_of("twilio", f"hmac-{algorithm}"),
                    key_id=secret.key_id or f"secret[{index}]",
                    signed=signed,
                )
        raise SignatureMismatch(
            f"the signature in {SIGNATURE_HEADER} does not match (check the Auth Token and "
            "that the URL is exactly the one Twilio called: public_url=)",
            header=SIGNATURE_HEADER,
        )

    # -- the sender's side ---------------------------------------------------------

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """Sign as Twilio does; return the headers to send.

        Signs ``public_url`` (else the ``url=`` part). A URL with
        ``bodySHA256`` signs the URL alone and its value must be the body's
        SHA-256; any other body must be form data. Uses the newest Auth Token
        with HMAC-SHA1, or, with only SharedKeys configured, the newest
        SharedKey with SHA-256 if pinned (else SHA-1) and the settings header.

        Raises:
            MalformedBody: the body does not fit the URL's variant.
            NoValidKey: no key is valid at ``now``.
        """
        moment = time.time() if now is None else now
        url = self.public_url or parts.get("url", "")
        request = WebhookRequest(method=parts.get("method", "POST"), url=url, body=body)
        expected_hash = body_hash_param(url)
        if expected_hash is None:
            tail = form_tail(request)
        elif expected_hash != hashlib.sha256(body).hexdigest():
            raise MalformedBody(f"the URL's {BODY_HASH_PARAM} is not the SHA-256 of this body")
        else:
            tail = b""
        headers: dict[str, str] = {}
        keys, algorithm = self.secrets, "sha1"
        if not keys:
            keys = self.shared_keys
            algorithm = "sha256" if "sha256" in self.shared_key_algorithms else "sha1"
        valid = [s for s in keys if s.is_valid_at(moment)]
        if not valid:
            raise NoValidKey()
        if keys is self.shared_keys:
            key_name = valid[-1].key_id or "webhooks_sharedkey"
            headers[SETTINGS_HEADER] = f"key={key_name},algorithm={_WIRE_NAMES[algorithm]}"
        mac = _hmac.new(valid[-1].value, url.encode("utf-8"), algorithm)
        mac.update(tail)
        headers[SIGNATURE_HEADER] = encode_signature(mac.digest(), "base64")
        return headers

    def __repr__(self) -> str:
        return (
            f"TwilioVerifier(public_url={self.public_url!r}, "
            f"secrets=<{len(self.secrets)} hidden>, shared_keys=<{len(self.shared_keys)} hidden>)"
        )


def twilio(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    public_url: str | None = None,
    shared_key: SecretInput | None = None,
    shared_keys: Iterable[SecretInput] | None = None,
    shared_key_algorithms: Iterable[Literal["sha1", "sha256"]] = ("sha256",),
) -> TwilioVerifier:
    """Twilio webhooks (``X-Twilio-Signature``).

    Secret: the account's Auth Token (*Console > Account > API keys &
    tokens > Auth Token*); during a token rotation pass both, oldest first.
    Accounts that sign with a Webhooks SharedKey (public beta) pass that
    key's secret as ``shared_key=``.

    Signed: the full URL Twilio called (query included) followed by the POST
    form fields sorted by name, each distinct value as ``name + value``
    (decoded, no separators), HMAC-SHA1, base64. JSON bodies: the URL carries
    ``bodySHA256=<hex SHA-256 of the body>``, the signature covers the URL
    alone, and the body must hash to that value. Like Twilio's SDKs, the URL
    is tried as received and with its port removed (or the default port
    added). SHA-256: Twilio uses it only with a SharedKey whose Webhook
    Setting names HMAC_SHA256, announced by
    ``X-Twilio-Webhooks-Signature-Settings``. That header is unsigned, so it
    only switches to the SharedKey secrets and picks an algorithm within
    ``shared_key_algorithms`` (default ``("sha256",)``); a request never
    brings the Auth Token and SHA-256 together, nor any other algorithm.

    The URL must be what Twilio called: behind a proxy set ``public_url=``
    (else each request's own URL is used). Field names and values run together unseparated,
    so two different forms can share a signed string; Twilio's scheme, not
    ours, and one more reason to keep the Auth Token private.

    Replay id: content hash; ``I-Twilio-Idempotency-Token`` is not signed, so
    it is never used (Twilio signs no timestamp; a retry is the same request).

    Source: twilio/twilio-python ``twilio/request_validator.py``; Twilio docs
    "Webhooks security"
    (https://www.twilio.com/docs/usage/webhooks/webhooks-security) and "Sign
    webhooks with shared keys"
    (https://www.twilio.com/docs/usage/webhooks/webhook-shared-keys).

    Args:
        secret: the Auth Token, as text or bytes, or a ``Secret``.
        secrets: several Auth Tokens, oldest first (not with ``secret``).
        public_url: the URL Twilio calls, exactly, query included.
        shared_key: a SharedKey secret, for Webhook Settings that sign with one.
        shared_keys: several, oldest first (not with ``shared_key``).
        shared_key_algorithms: what a SharedKey request may use: ``"sha256"``
            and/or ``"sha1"``.

    Returns:
        A ``TwilioVerifier``; ``Verification.scheme`` is ``twilio-hmac-sha1``
        or ``twilio-hmac-sha256``.

    Raises:
        ConfigurationError: no key at all, an empty key, an unknown
            algorithm, or a ``public_url`` that is not an absolute http(s) URL.
    """
    return TwilioVerifier(
        secret=secret,
        secrets=secrets,
        public_url=public_url,
        shared_key=shared_key,
        shared_keys=shared_keys,
        shared_key_algorithms=shared_key_algorithms,
    )
