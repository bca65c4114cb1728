"""Braintree: a signed payload posted as two form fields.

Braintree posts ``bt_signature`` and ``bt_payload`` as an
``application/x-www-form-urlencoded`` body. ``bt_payload`` is the
notification's XML in base64 (with line breaks); ``bt_signature`` holds
``<public key>|<signature>`` pairs joined by ``&``, each signature the
lower-case hex HMAC-SHA1 of ``bt_payload`` keyed with the **SHA-1 digest** of
the private key. This is ``WebhookNotificationGateway.parse`` of Braintree's
SDK (``braintree`` on PyPI), which the tests use as an oracle.
"""

from __future__ import annotations

import hashlib
import re
import time
import urllib.parse
from collections.abc import Iterable
from typing import Final

from .._checks import check_list
from .._form import parse_form
from ..errors import (
    ConfigurationError,
    MalformedBody,
    MalformedHeader,
    SignatureMismatch,
)
from ..keys import Secret
from ..request import WebhookRequest
from ..types import ReplayMode, Verification
from ..verifiers._base import single_header
from ._common import HmacBased, SecretInput, hmac_preset, owner_of

__all__ = ["BraintreeVerifier", "braintree"]

CONTENT_TYPE: Final = "Content-Type"
FORM: Final = "application/x-www-form-urlencoded"
_FIELDS: Final = ("bt_signature", "bt_payload")
# The SDK refuses a payload with anything but base64 and line breaks
# (``re.search(b"[^A-Za-z0-9+=/\n]", payload)``).
_PAYLOAD = re.compile(r"[A-Za-z0-9+=/\n]+", re.ASCII)
# One pair a key the merchant has; a header of more pairs than this is not
# Braintree's, and is refused before any is compared.
_MAX_PAIRS = 16


def _hashed(name: str, secret: SecretInput) -> SecretInput:
    """The HMAC key Braintree signs with: SHA-1 of the private key, the
    ``Secret``'s id and window kept. An empty secret is left for the
    verifier to refuse as empty."""
    if isinstance(secret, str | bytes) and not secret:
        return secret
    if not isinstance(secret, Secret | str | bytes):
        raise ConfigurationError(f"{owner_of(name)} secret must be a str, bytes or a Secret")
    given = secret if isinstance(secret, Secret) else Secret(secret)
    return Secret(
        hashlib.sha1(given.value).digest(),  # noqa: S324 - Braintree's key derivation
        key_id=given.key_id,
        not_before=given.not_before,
        not_after=given.not_after,
    )


class BraintreeVerifier(HmacBased):
    """Verify a Braintree webhook notification.

    Args:
        public_key: the merchant's public key: it picks the signature pair
            to check in ``bt_signature``.
        secret: the private key(s), oldest first.
        secrets: several, for a rotation, instead of ``secret``.

    Raises:
        ConfigurationError: no secret, or a public key that is not a
            non-empty str without ``|`` or ``&``.
    """

    __slots__ = ("public_key",)

    public_key: str

    def __init__(
        self,
        *,
        public_key: str,
        secret: SecretInput | None = None,
        secrets: Iterable[SecretInput] | None = None,
    ) -> None:
        if (
            not isinstance(public_key, str)
            or not public_key.strip()
            or "|" in public_key
            or "&" in public_key
        ):
            raise ConfigurationError(
                "presets.braintree(public_key=...) must be the merchant's public key as "
                "shown under API Keys"
            )
        if secret is not None and secrets is None:
            secret = _hashed("braintree", secret)
        elif secrets is not None and secret is None and not isinstance(secrets, str | bytes):
            items = check_list(secrets, "secrets", "presets.braintree")
            secrets = [_hashed("braintree", s) for s in items]
        object.__setattr__(self, "public_key", public_key)
        super().__init__(
            hmac_preset(
                "braintree",
                secret=secret,
                secrets=secrets,
                algorithm="sha1",
                header="bt_signature",
                encoding="hex_lower",
            )
        )

    @property
    def scheme(self) -> str:
        return self._inner.scheme

    @property
    def required_headers(self) -> tuple[str, ...]:
        # Nothing is signed in a header: Content-Type says how to read the body.
        return (CONTENT_TYPE,)

    @property
    def replay_default(self) -> ReplayMode:
        return "content"  # the payload names the notification; no delivery id is signed

    @property
    def replay_window(self) -> float | None:
        return None  # no timestamp is read: the guard keeps keys for its default time

    def _fields(self, request: WebhookRequest) -> tuple[str, str]:
        """``(signature, payload)`` as posted, checked.

        Raises:
            MalformedHeader: a Content-Type that is not form data.
            MalformedBody: a field missing, repeated or not of its form.
        """
        media = single_header(request, CONTENT_TYPE).partition(";")[0].strip().lower()
        if media != FORM:
            raise MalformedHeader(
                f"the {CONTENT_TYPE} header is not {FORM}, the body Braintree sends",
                header=CONTENT_TYPE,
            )
        fields: dict[str, str] = {}
        for name, value in parse_form(request.body, _FIELDS):
            if name in fields:
                raise MalformedBody(f"the Braintree form has more than one {name} field")
            fields[name] = value
        for name in _FIELDS:
            if not fields.get(name):
                raise MalformedBody(f"the Braintree form has no {name} field")
        if not _PAYLOAD.fullmatch(fields["bt_payload"]):
            raise MalformedBody("the Braintree bt_payload is not base64")
        return fields["bt_signature"], fields["bt_payload"]

    def _signature_for_key(self, signature: str) -> str:
        """The signature paired with this verifier's public key in ``bt_signature``.

        Raises:
            MalformedBody: more pairs than ``_MAX_PAIRS``.
            SignatureMismatch: no pair names this public key.
        """
        pairs = signature.split("&", _MAX_PAIRS)
        if len(pairs) > _MAX_PAIRS:
            raise MalformedBody("the Braintree bt_signature has too many key pairs")
        for pair in pairs:
            key, bar, value = pair.partition("|")
            if bar and key == self.public_key:
                return value
        raise SignatureMismatch(
            "bt_signature has no signature for this public_key", header="bt_signature"
        )

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify the signature Braintree posted with the payload.

        The payload is checked as posted and, if that fails and it does not
        end in a line break, with one appended, as Braintree's SDK does (some
        frameworks strip the payload's last line break).

        Returns:
            the :class:`Verification`; ``signed`` is the payload.

        Raises:
            VerificationError: a body that is not Braintree's form
                (``malformed_body``), no signature for this public key, or no
                key matching it.
        """
        if now is None:
            now = request.received_at
        signature, payload = self._fields(request)
        candidate = self._signature_for_key(signature)
        message = payload.encode("ascii")
        try:
            return self._inner.verify_message(candidate, (message,), now)
        except SignatureMismatch:
            if message.endswith(b"\n"):
                raise
        return self._inner.verify_message(candidate, (message + b"\n",), now)

    def signed_body(self, payload: bytes | str, now: float | None = None) -> bytes:
        """Build the form body Braintree posts for ``payload`` (its base64 text).

        Raises:
            NoValidKey: no private key is valid at ``now``.
        """
        text = payload.decode("ascii") if isinstance(payload, bytes) else payload
        moment = time.time() if now is None else now
        digest = self._inner.sign(text.encode("ascii"), moment)["bt_signature"]
        fields = {"bt_signature": f"{self.public_key}|{digest}", "bt_payload": text}
        return urllib.parse.urlencode(fields).encode("ascii")

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """Return the headers for a body made by :meth:`signed_body`.

        Braintree's signature is part of the body, so a body is signed by
        building it with :meth:`signed_body`; this returns the
        ``Content-Type`` to send with it, after checking that it verifies.

        Raises:
            VerificationError: the body holds no signature valid at ``now``.
        """
        moment = time.time() if now is None else now
        headers = {CONTENT_TYPE: FORM}
        self.verify(WebhookRequest(headers=headers, body=body, received_at=moment), moment)
        return headers

    def __repr__(self) -> str:
        return (
            f"BraintreeVerifier(public_key={self.public_key!r}, "
            f"secrets=<{len(self.secrets)} hidden>)"
        )


def braintree(
    *,
    public_key: str,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
) -> BraintreeVerifier:
    """Braintree webhook notifications.

    Secret: the *Private Key* under *Settings > API > API Keys* of the
    Braintree Control Panel, used as typed; ``public_key`` is the *Public
    Key* beside it.

    Signed: ``bt_payload`` as posted (base64 of the notification's XML),
    **HMAC-SHA1** keyed with SHA-1 of the private key, lower-case hex, in
    ``bt_signature`` as ``<public key>|<hex>`` (pairs joined by ``&``; the
    pair of ``public_key`` is checked). Both fields arrive in a form body;
    ``sign()`` cannot put them there: :meth:`BraintreeVerifier.signed_body`
    builds one. SHA-1 because Braintree signs with nothing else. The
    notification's own ``timestamp`` is inside the signed XML, which is not
    parsed here: no window is checked.

    Replay id: content hash of the payload (a retry posts the same one).
    The one-time ``bt_challenge`` check of a new destination is not answered
    here.

    Source: Braintree docs "Webhooks > Parse"
    (https://developer.paypal.com/braintree/docs/guides/webhooks/parse) and
    braintree/braintree_python ``braintree/webhook_notification_gateway.py``
    (``parse``) and ``webhook_testing_gateway.py`` (``sample_notification``),
    used as oracles in the tests.

    Raises:
        ConfigurationError: no private key, both ``secret`` and ``secrets``,
            or no ``public_key``.
    """
    return BraintreeVerifier(public_key=public_key, secret=secret, secrets=secrets)
