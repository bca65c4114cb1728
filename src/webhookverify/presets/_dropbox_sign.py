"""Dropbox Sign (formerly HelloSign): the signature travels inside the body,
and covers only two values.

Dropbox Sign posts each event as a ``multipart/form-data`` body whose ``json``
field holds ``{"event": {"event_time", "event_type", "event_hash", ...}, ...}``.
``event_hash`` is the HMAC-SHA256 (lower-case hex) of ``event_time +
event_type`` keyed with the account's API key (an API app's events: the app
owner's API key). Nothing else is signed: the signature request, template
or account data beside the event is not covered.

The event object is found by walking the top-level members of the ``json``
field, each decoded by the ``json`` module, within ``MAX_EVENT_HEAD`` bytes:
an unauthenticated body costs at most that, never a parse of the whole body.
Only once the signature is good is the whole field parsed, to check that the
event an application will read is the one that was signed (a JSON object may
repeat a key, and the last one wins).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from typing import Any, Final

from ..errors import MalformedBody, MalformedHeader
from ..request import WebhookRequest
from ..verifiers._base import DEFAULT_TOLERANCE, ReplayMode, Verification, single_header
from ._common import HmacBased, SecretInput, hmac_preset
from ._multipart import multipart_fields

__all__ = ["DROPBOX_SIGN_TOLERANCE", "MAX_EVENT_HEAD", "DropboxSignVerifier", "dropbox_sign"]

CONTENT_TYPE: Final = "Content-Type"
# Dropbox Sign documents no window for event_time: the library's five
# minutes, both ways (see dropbox_sign's docstring on retries).
DROPBOX_SIGN_TOLERANCE = DEFAULT_TOLERANCE
# Dropbox Sign puts the event object (four short strings and a metadata
# object of a few 40-character ids) first, or after an account_guid; 8 KiB
# holds it many times over, so the rest of the body is never read unsigned.
MAX_EVENT_HEAD: Final = 8 * 1024
# The signed values: a unix time (10 digits today) and an event type such as
# signature_request_all_signed; anything much longer is not Dropbox Sign's.
_TIME: Final = re.compile(r"[0-9]{1,12}", re.ASCII)
_TYPE: Final = re.compile(r"[a-z0-9_]{1,64}", re.ASCII)
_HASH: Final = re.compile(r"[0-9A-Za-z]{1,128}", re.ASCII)
_SPACE: Final = " \t\r\n"  # JSON's whitespace (RFC 8259 §2)
_FIELD: Final = "json"
# The boundary of the bodies signed_body builds (RFC 2046 §5.1.1: 1 to 70
# characters that do not occur in the parts).
_BOUNDARY: Final = "webhookverify-dropbox-sign-0d5c1f"


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise MalformedBody("the Dropbox Sign event object repeats a key")
    return found


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _SPACE:
        pos += 1
    return pos


def _event_object(raw: bytes) -> dict[str, Any]:
    """The top-level ``event`` member of the ``json`` field, read within ``MAX_EVENT_HEAD``.

    Raises:
        MalformedBody: not a JSON object, or no ``event`` object in the bound.
    """
    text = raw[:MAX_EVENT_HEAD].decode("utf-8", errors="replace")
    decoder = json.JSONDecoder(object_pairs_hook=_unique)
    pos = _skip(text, 0)
    if not text.startswith("{", pos):
        raise MalformedBody("the Dropbox Sign json field is not a JSON object")
    pos += 1
    try:
        while True:
            pos = _skip(text, pos)
            key, pos = decoder.raw_decode(text, pos)
            pos = _skip(text, pos)
            if not isinstance(key, str) or not text.startswith(":", pos):
                raise ValueError("not a member")
            pos = _skip(text, pos + 1)
            value, pos = decoder.raw_decode(text, pos)
            if key == "event":
                if not isinstance(value, dict):
                    raise MalformedBody("the Dropbox Sign event is not an object")
                return value
            pos = _skip(text, pos)
            if not text.startswith(",", pos):
                raise ValueError("no more members")
            pos += 1
    except (ValueError, RecursionError):
        raise MalformedBody(
            f"the Dropbox Sign json field has no event object in its first {MAX_EVENT_HEAD} "
            "bytes (MAX_EVENT_HEAD)"
        ) from None


def _text(event: dict[str, Any], name: str, pattern: re.Pattern[str]) -> str:
    value = event.get(name)
    if name == "event_time" and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise MalformedBody(f"the Dropbox Sign event has no well-formed {name}")
    return value


class DropboxSignVerifier(HmacBased):
    """Verify a Dropbox Sign event callback (account or API app).

    Args:
        secret: the API key(s), oldest first.
        secrets: several, for a rotation, instead of ``secret``.
        tolerance: how old ``event_time`` may be (default 300 s).
        future_tolerance: how far ahead (default: the same as ``tolerance``).

    Raises:
        ConfigurationError: no secret, or a negative tolerance.
    """

    __slots__ = ()

    def __init__(
        self,
        *,
        secret: SecretInput | None = None,
        secrets: Iterable[SecretInput] | None = None,
        tolerance: float | None = DROPBOX_SIGN_TOLERANCE,
        future_tolerance: float | None = None,
    ) -> None:
        inner = hmac_preset(
            "dropbox_sign",
            secret=secret,
            secrets=secrets,
            header="event.event_hash",
            encoding="hex_lower",
            template="{timestamp}{body}",
            timestamp_header="event.event_time",
            tolerance=tolerance,
            future_tolerance=future_tolerance,
        )
        super().__init__(inner)

    @property
    def tolerance(self) -> float | None:
        return self._inner.tolerance

    @property
    def future_tolerance(self) -> float | None:
        return self._inner.future_tolerance

    @property
    def required_headers(self) -> tuple[str, ...]:
        # Nothing is signed in a header: Content-Type says how to read the body.
        return (CONTENT_TYPE,)

    @property
    def replay_default(self) -> ReplayMode:
        return self._inner.replay_default

    @property
    def replay_window(self) -> float | None:
        return self._inner.replay_window

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify the ``event_hash`` Dropbox Sign posted in the body.

        Returns:
            the :class:`Verification`; ``timestamp`` is ``event_time``; no
            delivery id is signed, so the replay key is the content hash.

        Raises:
            VerificationError: a Content-Type that is not multipart form data
                (``malformed_header``); no single ``json`` field, no event object
                within ``MAX_EVENT_HEAD`` bytes, a missing or malformed field, or a
                second ``event`` member (``malformed_body``); a stale or future
                ``event_time``; no key matching ``event_hash``.
        """
        if now is None:
            now = request.received_at
        content_type = single_header(request, CONTENT_TYPE)
        if content_type.partition(";")[0].strip().lower() != "multipart/form-data":
            raise MalformedHeader(
                f"the {CONTENT_TYPE} header is not multipart/form-data, the body Dropbox Sign "
                "sends",
                header=CONTENT_TYPE,
            )
        fields = multipart_fields(content_type, request.body, (_FIELD,))
        if len(fields) != 1:
            raise MalformedBody("the Dropbox Sign body needs exactly one json field")
        raw = fields[0][1]
        event = _event_object(raw)
        stamp = _text(event, "event_time", _TIME)
        kind = _text(event, "event_type", _TYPE)
        signature = _text(event, "event_hash", _HASH)
        # the signed message: event_time + event_type (ASCII, checked above)
        verification = self._inner.verify_message(
            signature, ((stamp + kind).encode("ascii"),), now, timestamp=stamp
        )
        # Signed: now the whole field may be parsed. An application reads the
        # last "event" member; it must be the one just verified.
        try:
            document = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise MalformedBody("the Dropbox Sign json field is not UTF-8 JSON") from None
        if not isinstance(document, dict) or document.get("event") != event:
            raise MalformedBody("the Dropbox Sign json field has a second event member")
        return verification

    def signed_body(
        self, document: dict[str, Any], now: float | None = None, *, event_type: str = "test"
    ) -> bytes:
        """Build a body as Dropbox Sign sends it: ``document`` with a signed ``event`` first.

        Args:
            document: the other top-level members (``signature_request`` ...).
            now: the signing time, ``event_time`` (default: the clock).
            event_type: the event's type (Dropbox Sign's test event is ``test``).

        Raises:
            NoValidKey: no secret is valid at ``now``.
        """
        moment = time.time() if now is None else now
        stamp = str(int(moment))
        signed = self._inner.sign(event_type.encode("ascii"), moment, timestamp=stamp)
        event = {
            "event_time": stamp,
            "event_type": event_type,
            "event_hash": signed["event.event_hash"],
        }
        content = json.dumps({"event": event, **document}, separators=(",", ":"))
        return (
            f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="{_FIELD}"\r\n\r\n'
            f"{content}\r\n--{_BOUNDARY}--\r\n"
        ).encode()

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """Return the headers for a body made by :meth:`signed_body`.

        Dropbox Sign sends no signature header: its signature is part of the
        body, so a body is signed by building it with :meth:`signed_body`.
        This returns the ``Content-Type`` to send with such a body, after
        checking that it verifies at ``now``.

        Raises:
            VerificationError: the body holds no signature valid at ``now``.
        """
        moment = time.time() if now is None else now
        headers = {CONTENT_TYPE: f"multipart/form-data; boundary={_BOUNDARY}"}
        self.verify(WebhookRequest(headers=headers, body=body, received_at=moment), moment)
        return headers

    def __repr__(self) -> str:
        hidden = len(self.secrets)
        return f"DropboxSignVerifier(tolerance={self.tolerance!r}, secrets=<{hidden} hidden>)"


def dropbox_sign(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = DROPBOX_SIGN_TOLERANCE,
    future_tolerance: float | None = None,
) -> DropboxSignVerifier:
    """Dropbox Sign (HelloSign) event callbacks, account and API app.

    Secret: the account's *API key* (*Settings > API > API key*); for an API
    app's callbacks, the API key of the account that owns the app. Used as
    text, as shown.

    Signed: ``event_time + event_type``, HMAC-SHA256, lower-case hex, posted
    **in the body** as ``event.event_hash`` of the ``json`` field of a
    ``multipart/form-data`` body. The rest of the body (the signature
    request, template or account) is **not** signed: a verified callback
    proves that Dropbox Sign produced an event of this type at this time,
    not that the data beside it is untouched. Serve the endpoint over HTTPS
    only, and fetch the signature request from the API by its id before
    acting on anything the body says. The window is the library's five
    minutes (Dropbox Sign documents none); callbacks it retries after an
    outage keep their ``event_time`` and are refused once older than
    ``tolerance``: widen it if you rely on retries. ``sign()`` cannot put a
    signature in the body: :meth:`DropboxSignVerifier.signed_body` builds one.

    Replay id: content hash; nothing in the body but ``event_time`` and
    ``event_type`` is signed, and two events may share both.

    Source: Dropbox Sign docs "Events and Callbacks > Event hash
    verification" (https://developers.hellosign.com/docs/events/overview/)
    and the SDKs' ``EventCallbackHelper`` (hellosign/hellosign-openapi
    ``test_fixtures/EventCallbackHelper_AccountCallbacks.json`` and
    ``examples/EventCallback.rb``), whose vectors the tests use.

    Args:
        secret: the API key, as text or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        tolerance: seconds ``event_time`` may lie in the past; ``None``
            turns the check off (by name only).
        future_tolerance: seconds it may lie ahead of this clock (default:
            ``tolerance``).

    Returns:
        A ``DropboxSignVerifier``.

    Raises:
        ConfigurationError: a missing or empty secret, or a negative or
            non-numeric tolerance.
    """
    return DropboxSignVerifier(
        secret=secret, secrets=secrets, tolerance=tolerance, future_tolerance=future_tolerance
    )
