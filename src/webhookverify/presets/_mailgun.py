"""Mailgun: the signature travels inside the body, and covers only two values.

Mailgun signs ``timestamp + token`` (HMAC-SHA256, lower-case hex) with the
webhook signing key and posts the result alongside the event: in a JSON body
as the ``signature`` object (``{"token", "timestamp", "signature"}``), in the
form bodies of legacy webhooks and routes as three form fields. The event data
itself is **not** signed: the proof is that Mailgun made this (timestamp,
token) pair recently, and the token, being signed, is the replay key.
"""

from __future__ import annotations

import json
import re
import secrets as _random
import time
from collections.abc import Iterable
from typing import Final

from .._form import parse_form
from ..errors import MalformedBody, MalformedHeader, MalformedSignature, SignatureMismatch
from ..request import WebhookRequest
from ..verifiers._base import ReplayMode, Verification, single_header
from ..verifiers.hmac import HmacVerifier
from ._common import HmacBased, SecretInput, hmac_preset
from ._multipart import multipart_fields

__all__ = ["MAILGUN_TOLERANCE", "MailgunVerifier", "mailgun"]

CONTENT_TYPE: Final = "Content-Type"
# Mailgun's Python SDK refuses a timestamp more than 15 minutes away from its
# clock, either way (mailgun/security.py SecurityGuard.verify_webhook,
# max_age_seconds=900 with abs()). Mailgun's documentation names no window.
MAILGUN_TOLERANCE = 900.0
# The signed values are short: a 50-character token, a 10-digit timestamp and
# 64 hex digits. Anything much longer is not Mailgun's and is refused before
# it reaches a hash.
_MAX_FIELD = 256
# Mailgun puts the signature object first; its three (or four) short strings
# fit well within this, so the body after it is never read or parsed.
_MAX_SIGNATURE_OBJECT = 4096
_JSON_HEAD = re.compile(rb'[ \t\r\n]*\{[ \t\r\n]*"signature"[ \t\r\n]*:[ \t\r\n]*\{')
_PRINTABLE = re.compile(r"[\x21-\x7e]+", re.ASCII)
_FIELDS: Final = ("token", "timestamp", "signature", "parent-signature")


def _json_fields(body: bytes) -> dict[str, object]:
    head = _JSON_HEAD.match(body)
    if head is not None:
        start = head.end() - 1
        end = body.find(b"}", start, start + _MAX_SIGNATURE_OBJECT)
        if end != -1:
            try:
                found = json.loads(body[start : end + 1].decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                found = None
            if isinstance(found, dict):
                return found
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedBody("the Mailgun body is not valid UTF-8 JSON") from None
    signature = document.get("signature") if isinstance(document, dict) else None
    if not isinstance(signature, dict):
        raise MalformedBody("the Mailgun body has no signature object")
    return signature


def _form_fields(pairs: Iterable[tuple[str, str]]) -> dict[str, object]:
    fields: dict[str, object] = {}
    for name, value in pairs:
        if name in _FIELDS:
            if name in fields:
                raise MalformedBody(f"the Mailgun form has more than one {name} field")
            fields[name] = value
    return fields


def _multipart_fields(content_type: str, body: bytes) -> dict[str, object]:
    # RFC 7578 multipart/form-data, read with a bounded reader: it runs
    # before the signature is known to be good (see _multipart).
    pairs: list[tuple[str, str]] = []
    for name, raw in multipart_fields(content_type, body, _FIELDS):
        try:
            pairs.append((name, raw.decode("ascii")))
        except UnicodeDecodeError:
            raise MalformedBody(f"the Mailgun form field {name} is not text") from None
    return _form_fields(pairs)


def _text(fields: dict[str, object], name: str) -> str:
    value = fields[name]
    if name == "timestamp" and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # the SDK signs str(timestamp): an int is taken as its digits
    if not isinstance(value, str) or not (len(value) <= _MAX_FIELD and _PRINTABLE.fullmatch(value)):
        raise MalformedBody(f"the Mailgun signature field {name} is not a short ASCII string")
    return value


class MailgunVerifier(HmacBased):
    """Verify a Mailgun webhook or route delivery.

    Args:
        secret: the HTTP webhook signing key(s), oldest first. A
            subaccount's events carry ``parent-signature`` too, made with the
            primary account's key: configure either key (or both).
        secrets: several, for a rotation, instead of ``secret``.
        tolerance: how old the signed timestamp may be (default 900 s).
        future_tolerance: how far ahead (default: the same as ``tolerance``).

    Raises:
        ConfigurationError: no secret, or a negative tolerance.
    """

    __slots__ = ("_parent",)

    _parent: HmacVerifier

    def __init__(
        self,
        *,
        secret: SecretInput | None = None,
        secrets: Iterable[SecretInput] | None = None,
        tolerance: float | None = MAILGUN_TOLERANCE,
        future_tolerance: float | None = None,
    ) -> None:
        set_ = object.__setattr__
        for slot, field in (("_inner", "signature"), ("_parent", "parent-signature")):
            set_(
                self,
                slot,
                hmac_preset(
                    "mailgun",
                    secret=secret,
                    secrets=secrets,
                    header=f"signature.{field}",
                    encoding="hex_lower",
                    template="{timestamp}{id}",
                    timestamp_header="signature.timestamp",
                    id_header="signature.token",
                    tolerance=tolerance,
                    future_tolerance=future_tolerance,
                ),
            )

    @property
    def tolerance(self) -> float | None:
        return self._inner.tolerance

    @property
    def required_headers(self) -> tuple[str, ...]:
        # Nothing is signed in a header: Content-Type says how to read the body.
        return (CONTENT_TYPE,)

    @property
    def replay_default(self) -> ReplayMode:
        return self._inner.replay_default  # id: the token is signed and unique per delivery

    @property
    def replay_window(self) -> float | None:
        return self._inner.replay_window

    def _signed_values(self, request: WebhookRequest) -> dict[str, str]:
        """The signature fields Mailgun posted in the body, as checked text.

        Raises:
            MalformedHeader: a Content-Type that is not JSON or form data.
            MalformedBody: an unreadable body, or a field missing or malformed.
        """
        content_type = single_header(request, CONTENT_TYPE)
        media = content_type.partition(";")[0].strip().lower()
        if media == "application/json":
            fields = _json_fields(request.body)
        elif media == "application/x-www-form-urlencoded":
            fields = _form_fields(parse_form(request.body, _FIELDS))
        elif media == "multipart/form-data":
            fields = _multipart_fields(content_type, request.body)
        else:
            raise MalformedHeader(
                f"the {CONTENT_TYPE} header is not JSON or form data, the bodies Mailgun sends",
                header=CONTENT_TYPE,
            )
        for name in _FIELDS[:3]:
            if name not in fields:
                raise MalformedBody(f"the Mailgun body has no signature field {name}")
        return {name: _text(fields, name) for name in _FIELDS if name in fields}

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify the signature Mailgun posted in the body.

        Returns:
            the :class:`Verification`; ``delivery_id`` is the signed token.

        Raises:
            VerificationError: an unreadable body or missing field
                (``malformed_body``), a stale or future timestamp, or no key
                matching ``signature`` (nor ``parent-signature``, when sent).
        """
        if now is None:
            now = request.received_at
        values = self._signed_values(request)
        stamp, token = values["timestamp"], values["token"]
        # the signed message: timestamp + token (both printable ASCII, checked above)
        message = ((stamp + token).encode("ascii"),)
        try:
            return self._inner.verify_message(
                values["signature"], message, now, timestamp=stamp, delivery_id=token
            )
        except (SignatureMismatch, MalformedSignature):
            if "parent-signature" not in values:
                raise
        return self._parent.verify_message(
            values["parent-signature"], message, now, timestamp=stamp, delivery_id=token
        )

    def signed_body(
        self, event_data: object, now: float | None = None, *, token: str | None = None
    ) -> bytes:
        """Build a JSON body as Mailgun sends it: ``signature`` first, then ``event-data``.

        Args:
            event_data: anything ``json.dumps`` accepts.
            now: the signing time (default: the clock).
            token: the delivery token (default: 50 random hex digits).

        Raises:
            NoValidKey: no secret is valid at ``now``.
        """
        moment = time.time() if now is None else now
        token = token or _random.token_hex(25)
        stamp = str(int(moment))
        signed = self._inner.sign(b"", moment, timestamp=stamp, id=token)
        signature = {"token": token, "timestamp": stamp, "signature": signed["signature.signature"]}
        document = {"signature": signature, "event-data": event_data}
        return json.dumps(document, separators=(",", ":")).encode("utf-8")

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """Return the headers for a body made by :meth:`signed_body`.

        Mailgun sends no signature header: its signature is part of the body,
        so a body is signed by building it with :meth:`signed_body`. This
        returns the ``Content-Type`` to send with such a body, after checking
        that it verifies at ``now``.

        Raises:
            VerificationError: the body holds no signature valid at ``now``.
        """
        moment = time.time() if now is None else now
        headers = {CONTENT_TYPE: "application/json"}
        self.verify(WebhookRequest(headers=headers, body=body, received_at=moment), moment)
        return headers

    def __repr__(self) -> str:
        hidden = len(self.secrets)
        return f"MailgunVerifier(tolerance={self.tolerance!r}, secrets=<{hidden} hidden>)"


def mailgun(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = MAILGUN_TOLERANCE,
    future_tolerance: float | None = None,
) -> MailgunVerifier:
    """Mailgun webhooks and routes.

    Secret: the *HTTP webhook signing key*, in *Sending > Webhooks* (or
    *Settings > API Security*). For a subaccount's events, the primary
    account's key verifies ``parent-signature``.

    Signed: ``{timestamp}{token}``, HMAC-SHA256, lower-case hex, posted **in
    the body**: the ``signature`` object of a JSON webhook, or the
    ``timestamp``/``token``/``signature`` fields of a form (legacy webhooks,
    routes; urlencoded or multipart). The event data is **not** signed by
    Mailgun: a verified delivery proves that Mailgun sent *a* recent request
    with this token, not that the rest of the body is untouched, so serve the
    endpoint over HTTPS only. The window is that of Mailgun's SDK: 15
    minutes, both ways. ``sign()`` cannot put a signature in the body:
    :meth:`MailgunVerifier.signed_body` builds one.

    Replay id: the signed ``token`` (keep the replay guard on). The event's
    own ``event-data.id`` is not signed, so it is never used.

    Source: Mailgun docs "Securing webhooks"
    (https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks)
    and mailgun/mailgun-python ``mailgun/security.py``
    (``SecurityGuard.verify_webhook``), used as an oracle in the tests.
    """
    return MailgunVerifier(
        secret=secret, secrets=secrets, tolerance=tolerance, future_tolerance=future_tolerance
    )
