"""Adyen: an HMAC over eight fields of each notification item.

A standard Adyen notification is a JSON body, ``{"live": ...,
"notificationItems": [{"NotificationRequestItem": {...}}, ...]}``. Each item
carries its own signature in ``additionalData.hmacSignature``: base64 of the
HMAC-SHA256, keyed with the hex-decoded HMAC key, of eight of its fields
joined by ``:`` (``pspReference``, ``originalReference``,
``merchantAccountCode``, ``merchantReference``, ``amount.value``,
``amount.currency``, ``eventCode``, ``success``; a missing one is empty).
Nothing else is signed, neither the rest of the item nor the rest of the body.

A delivery with several items is accepted only when **every** item carries a
signature that verifies; one unsigned or altered item refuses the whole
delivery, which Adyen then retries. Two items with the same signed fields
refuse it too, and the replay key does not depend on the items' order: else a
captured notification, its items repeated or reordered, would pass the replay
guard as a new one. Adyen's libraries verify one
``NotificationRequestItem`` at a time and leave the loop to the caller; the
Python library's ``is_valid_hmac_notification`` checks only the first item of
a whole notification, which would let an unsigned item ride along.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any, Final

from ..errors import MalformedBody, MalformedHeader
from ..request import WebhookRequest
from ..types import ReplayMode, Verification
from ..verifiers._base import single_header
from ._common import HmacBased, SecretInput, hex_secrets, hmac_preset

__all__ = ["MAX_ADYEN_ITEMS", "AdyenVerifier", "adyen"]

CONTENT_TYPE: Final = "Content-Type"
SIGNATURE: Final = "additionalData.hmacSignature"
# Adyen sends one item a notification today; older integrations received
# batches of a few. A body of more items than this is not Adyen's, and is
# refused before any HMAC is computed.
MAX_ADYEN_ITEMS = 100
# The signed fields, in order (Adyen docs "Verify HMAC signatures": "the
# values of the following fields, concatenated with a colon").
_FIELDS: Final = (
    "pspReference",
    "originalReference",
    "merchantAccountCode",
    "merchantReference",
    "value",
    "currency",
    "eventCode",
    "success",
)


def _text(item: Mapping[str, Any], name: str) -> str:
    """A signed field as Adyen's libraries put it in the message: text as
    is, an integer in decimal, a missing field empty.

    Raises:
        MalformedBody: a value of another type (a float, a boolean, null, an object).
    """
    value = item.get(name, "")
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise MalformedBody(f"the Adyen notification field {name} is not text or an integer")


def signing_string(item: Mapping[str, Any]) -> str:
    """The text Adyen signs for one ``NotificationRequestItem``.

    Raises:
        MalformedBody: ``amount`` that is not an object, or a signed field of
            another type than text or an integer.
    """
    amount = item.get("amount", {})
    if not isinstance(amount, dict):
        raise MalformedBody("the Adyen notification field amount is not an object")
    fields = {**item, "value": amount.get("value", ""), "currency": amount.get("currency", "")}
    return ":".join(_text(fields, name) for name in _FIELDS)


def _items(body: bytes) -> list[dict[str, Any]]:
    """The ``NotificationRequestItem`` objects of a notification body.

    Raises:
        MalformedBody: not UTF-8 JSON of that shape, no item, or more than
            ``MAX_ADYEN_ITEMS``.
    """
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedBody("the Adyen body is not valid UTF-8 JSON") from None
    listed = document.get("notificationItems") if isinstance(document, dict) else None
    if not isinstance(listed, list) or not listed:
        raise MalformedBody("the Adyen body has no notificationItems list")
    if len(listed) > MAX_ADYEN_ITEMS:
        raise MalformedBody(
            f"the Adyen body has more than {MAX_ADYEN_ITEMS} items (MAX_ADYEN_ITEMS)"
        )
    items = []
    for entry in listed:
        item = entry.get("NotificationRequestItem") if isinstance(entry, dict) else None
        if not isinstance(item, dict):
            raise MalformedBody("an Adyen notification item has no NotificationRequestItem")
        items.append(item)
    return items


def _signature(item: Mapping[str, Any]) -> str:
    extra = item.get("additionalData")
    value = extra.get("hmacSignature") if isinstance(extra, dict) else None
    if not isinstance(value, str) or not value:
        raise MalformedBody("an Adyen notification item has no additionalData.hmacSignature")
    return value


class AdyenVerifier(HmacBased):
    """Verify an Adyen standard notification (JSON), every item of it.

    Args:
        secret: the HMAC key(s) as hex text (decoded into the key),
            or their bytes or ``Secret``; oldest first.
        secrets: several, for a rotation, instead of ``secret``.

    Raises:
        ConfigurationError: no key, both ``secret`` and ``secrets``, an empty
            one, or a text key that is not hex.
    """

    __slots__ = ()

    def __init__(
        self,
        *,
        secret: SecretInput | None = None,
        secrets: Iterable[SecretInput] | None = None,
    ) -> None:
        secret, secrets = hex_secrets("adyen", secret, secrets, "HMAC key")
        super().__init__(
            hmac_preset(
                "adyen", secret=secret, secrets=secrets, header=SIGNATURE, encoding="base64"
            )
        )

    @property
    def scheme(self) -> str:
        return self._inner.scheme

    @property
    def required_headers(self) -> tuple[str, ...]:
        # Nothing is signed in a header: Content-Type says the body is JSON.
        return (CONTENT_TYPE,)

    @property
    def replay_default(self) -> ReplayMode:
        return "content"  # the signed fields of every item, pspReference and eventCode among them

    @property
    def replay_window(self) -> float | None:
        return None  # no timestamp is signed

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify every item of an Adyen notification.

        Returns:
            the :class:`Verification`: the key of the first item, and as
            ``signed`` each item's signed text, sorted (so that the replay
            key does not depend on the order of the items).

        Raises:
            MalformedHeader: a Content-Type that is not JSON.
            MalformedBody: a body that is not a notification, an item
                without a signature, or an item whose signed fields repeat another's.
            VerificationError: an item whose signature no key verifies.
        """
        if now is None:
            now = request.received_at
        media = single_header(request, CONTENT_TYPE).partition(";")[0].strip().lower()
        if media != "application/json":
            raise MalformedHeader(
                f"the {CONTENT_TYPE} header is not application/json, the body Adyen sends",
                header=CONTENT_TYPE,
            )
        items = _items(request.body)
        # Every item is read before any is hashed: a malformed one costs no HMAC.
        checks = [(_signature(item), signing_string(item).encode("utf-8")) for item in items]
        texts = sorted(message for _, message in checks)
        if len(set(texts)) != len(texts):
            # Only the eight fields are signed: a repeated item would give a
            # captured notification a new replay key, the same events twice.
            raise MalformedBody("the Adyen body repeats a notification item")
        results = [self._inner.verify_message(sig, (message,), now) for sig, message in checks]
        # Sorted: the replay key (a hash of these) is the same in any item order.
        return Verification(self.scheme, results[0].key_id, None, None, tuple(texts))

    def signed_body(
        self, items: Iterable[Mapping[str, Any]], now: float | None = None, *, live: bool = False
    ) -> bytes:
        """Build a JSON notification as Adyen sends it, each item signed.

        Args:
            items: the ``NotificationRequestItem`` objects (without
                ``hmacSignature``; other ``additionalData`` is kept).
            live: the body's ``live`` flag.

        Raises:
            NoValidKey: no key is valid at ``now``.
            MalformedBody: an item with a signed field of the wrong type.
        """
        moment = time.time() if now is None else now
        listed = []
        for item in items:
            message = signing_string(item).encode("utf-8")
            signature = self._inner.sign(message, moment)[SIGNATURE]
            extra = {**item.get("additionalData", {}), "hmacSignature": signature}
            listed.append({"NotificationRequestItem": {**item, "additionalData": extra}})
        document = {"live": "true" if live else "false", "notificationItems": listed}
        return json.dumps(document, separators=(",", ":")).encode("utf-8")

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """Return the headers for a body made by :meth:`signed_body`.

        Adyen's signatures are part of the body, so a body is signed by
        building it with :meth:`signed_body`; this returns the
        ``Content-Type`` to send with it, after checking that it verifies.

        Raises:
            VerificationError: the body is not a notification every item of
                which verifies at ``now``.
        """
        moment = time.time() if now is None else now
        headers = {CONTENT_TYPE: "application/json"}
        self.verify(WebhookRequest(headers=headers, body=body, received_at=moment), moment)
        return headers

    def __repr__(self) -> str:
        return f"AdyenVerifier(secrets=<{len(self.secrets)} hidden>)"


def adyen(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> AdyenVerifier:
    """Adyen standard notifications (JSON webhooks with HMAC signatures).

    Secret: the *HMAC key* generated in *Customer Area > Developers >
    Webhooks > (the webhook) > Security*, as the hex text shown; it is
    **hex-decoded** into the key (a ``Secret`` or bytes are the key itself).
    While a new key replaces the old, list both (oldest first).

    Signed: for **each** item, ``pspReference:originalReference:
    merchantAccountCode:merchantReference:amount.value:amount.currency:
    eventCode:success``, HMAC-SHA256, base64, in the item's
    ``additionalData.hmacSignature``. Every item must verify (see the
    module). Only those eight fields are proved: the rest of an item
    (``additionalData``, ``reason``, ``eventDate``, ``paymentMethod``) and
    the body's ``live`` flag are not signed by Adyen, so act on the signed
    fields, and serve the endpoint over HTTPS only. No timestamp is signed.
    ``sign()`` cannot put the signatures in the body:
    :meth:`AdyenVerifier.signed_body` builds one. The HMAC in an
    ``HmacSignature`` header of other Adyen webhooks (Balance Platform,
    Management API) is another scheme, not this one.

    Replay id: content hash of the signed text of every item, which holds
    ``pspReference`` and ``eventCode``, Adyen's identity of a notification.

    Source: Adyen docs "Verify HMAC signatures"
    (https://docs.adyen.com/development-resources/webhooks/verify-hmac-signatures)
    and Adyen/adyen-python-api-library ``Adyen/util.py``
    (``generate_notification_sig``), whose tests' notifications are the
    vectors in the tests and whose function is an oracle there.
    """
    return AdyenVerifier(secret=secret, secrets=secrets)
