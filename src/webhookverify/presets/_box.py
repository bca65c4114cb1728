"""Box webhooks (v2): two signatures, a signed RFC 3339 timestamp, and a fallback.

Box signs ``body + box-delivery-timestamp`` with HMAC-SHA256 (base64) twice:
``box-signature-primary`` with the primary key and ``box-signature-secondary``
with the secondary key, so that either key can be rotated while the other
keeps verifying. ``box-signature-version`` must be ``1`` and
``box-signature-algorithm`` must be ``HmacSHA256``.

Box's own SDKs also accept a signature computed over the body *re-escaped* as
ASCII JSON text, because some Box deliveries are signed that way (a file name
with an emoji, a ``\\/`` in a name): see :func:`escape_body`. We try the same
forms in the SDK's order (the raw body, then the escaped form; primary, then
secondary), with two differences:

- The escaped form is accepted only when it and the body parse to the same
  JSON value. Escaping doubles backslashes, so a body that differs from the
  signed text (``"C:\\new"`` where Box signed ``"C:\\\\new"``) would
  otherwise verify with a different meaning (a newline for a backslash).
- It runs before any signature is known to be good, so it is bounded: a body
  with more than ``MAX_ESCAPE_RUNS`` places to escape, or more than
  ``MAX_ESCAPED_BYTES`` bytes to escape, has no escaped form to try.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Final

from ..errors import (
    ConfigurationError,
    MalformedSignature,
    NoValidKey,
    SignatureMismatch,
    UnsupportedSignatureVersion,
    VerificationError,
)
from ..keys import Secret, to_secrets
from ..request import WebhookRequest
from ..verifiers._base import (
    ReplayMode,
    Verification,
    format_timestamp,
    single_header,
)
from ..verifiers.hmac import HmacVerifier
from ._common import SecretInput, hmac_preset, owner_of

__all__ = ["BOX_FUTURE_TOLERANCE", "BOX_TOLERANCE", "BoxVerifier", "box", "escape_body"]

PRIMARY: Final = "box-signature-primary"
SECONDARY: Final = "box-signature-secondary"
TIMESTAMP: Final = "box-delivery-timestamp"
VERSION: Final = "box-signature-version"
ALGORITHM: Final = "box-signature-algorithm"

# Box's documentation and SDKs refuse a delivery older than ten minutes.
BOX_TOLERANCE = 600.0
# Box's generated SDKs refuse any timestamp ahead of their clock; Box's
# documentation says nothing of the future, so the library default absorbs
# ordinary clock skew (pass future_tolerance=0 for the SDK's behaviour).
BOX_FUTURE_TOLERANCE = 300.0
# The body's "id": the event's, unchanged when Box retries (Box docs "V2
# Webhooks > Payload body"), unlike the unsigned box-delivery-id header.
ID_FIELD = "id"

# box-sdk-gen box_sdk_gen/internal/utils.py escape_unicode(): every backslash
# not followed by '/' is doubled, then every character outside printable
# ASCII becomes \n, \r, \t or a lower-case \uXXXX escape (UTF-16 surrogate
# pairs beyond the BMP). A run is a stretch of bytes that all need escaping;
# the text between runs is copied as it is, never decoded.
_ESCAPED_BYTES: Final = bytes([*range(0x20), *range(0x7F, 0x100), ord("\\")])
# Each byte as 0 if it needs escaping, else 1: runs are then found with
# bytes.find, which scans 30 times faster than a regular expression.
_MARK: Final = bytes(0 if byte in _ESCAPED_BYTES else 1 for byte in range(256))
# Box escapes the text of names and descriptions (a file name is at most 255
# characters): a delivery has a handful of runs to escape, a few KiB at most.
# The bounds keep the fallback's work, done before any signature is known to
# be good, to a few passes over the body.
MAX_ESCAPE_RUNS: Final = 1024
MAX_ESCAPED_BYTES: Final = 16 * 1024


def _escape_run(text: str) -> str:
    # json.dumps(ensure_ascii=True) escapes each of these characters exactly as
    # the SDK does (\\ for a backslash, \n \r \t, lower-case \uXXXX with
    # surrogate pairs), except \b and \f, which the SDK writes as \uXXXX. Every
    # character of a run yields an escape that starts with a backslash, so
    # "\\b" below can only be the escape of U+0008, never a doubled backslash
    # followed by "b".
    escaped = json.dumps(text)[1:-1]
    return escaped.replace("\\b", "\\u0008").replace("\\f", "\\u000c")


def escape_body(body: bytes) -> bytes | None:
    """Box's escaped form of a body, or ``None`` when there is none to try.

    ``None`` when it is the body itself, when the body is not UTF-8 (the SDKs
    work on text and cannot escape such a body either), or when it has more
    than ``MAX_ESCAPE_RUNS`` runs or ``MAX_ESCAPED_BYTES`` bytes to escape.
    """
    # A backslash before "/" is kept: read it as "/" when marking. "\\/" never
    # overlaps itself, so replace() finds every one.
    marks = body.replace(b"\\/", b"//").translate(_MARK)
    to_escape = len(marks) - marks.count(1)
    if not to_escape or to_escape > MAX_ESCAPED_BYTES:
        return None
    pieces: list[bytes] = []
    pos = 0
    for _ in range(MAX_ESCAPE_RUNS):
        start = marks.find(0, pos)
        if start == -1:
            break
        end = marks.find(1, start)
        end = len(marks) if end == -1 else end
        try:
            text = body[start:end].decode("utf-8")  # a UTF-8 sequence never spans two runs
        except UnicodeDecodeError:
            return None
        pieces += (body[pos:start], _escape_run(text).encode("ascii"))
        pos = end
    else:
        if marks.find(0, pos) != -1:
            return None  # more than MAX_ESCAPE_RUNS runs
    pieces.append(body[pos:])
    escaped = b"".join(pieces)
    return None if escaped == body else escaped


def _same_document(body: bytes, escaped: bytes) -> bool:
    """Whether both texts are JSON of the same value (run after a signature matched)."""
    try:
        return bool(json.loads(body.decode("utf-8")) == json.loads(escaped))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False


class BoxVerifier:
    """Verify a Box webhook (v2 signatures).

    Args:
        secret: the primary signature key.
        secondary_secret: the secondary signature key, if set.
        secrets: instead of the two above, the keys oldest first; signing
            puts the newest in the primary header and the one before it in the
            secondary header.
        tolerance: how old ``box-delivery-timestamp`` may be (default 600 s).
        future_tolerance: how far ahead it may be (default 300 s).

    Every configured key is tried against both signature headers, so swapping
    which key is called primary in the configuration never breaks delivery.

    Raises:
        ConfigurationError: no key, both ``secret(s)`` forms, or a bad tolerance.
    """

    __slots__ = ("_primary", "_secondary", "secrets")

    secrets: tuple[Secret, ...]
    _primary: HmacVerifier
    _secondary: HmacVerifier

    def __init__(
        self,
        *,
        secret: SecretInput | None = None,
        secondary_secret: SecretInput | None = None,
        secrets: Iterable[SecretInput] | None = None,
        tolerance: float | None = BOX_TOLERANCE,
        future_tolerance: float | None = BOX_FUTURE_TOLERANCE,
    ) -> None:
        owner = owner_of("box")
        if secrets is not None and secondary_secret is not None:
            raise ConfigurationError(
                f"{owner} takes secret= and secondary_secret=, or secrets=, not both"
            )
        if secrets is None:
            primary = _named(to_secrets(secret, None, owner=owner)[0], "primary")
            keys: tuple[Secret, ...] = (primary,)
            if secondary_secret is not None:
                secondary = to_secrets(secondary_secret, None, owner=owner)[0]
                keys = (_named(secondary, "secondary"), primary)
        else:
            keys = to_secrets(secret, secrets, owner=owner)
        set_ = object.__setattr__
        set_(self, "secrets", keys)
        set_(self, "_primary", _hmac(keys, PRIMARY, tolerance, future_tolerance))
        set_(self, "_secondary", _hmac(keys, SECONDARY, tolerance, future_tolerance))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("BoxVerifier is immutable; build a new one")

    @property
    def tolerance(self) -> float | None:
        return self._primary.tolerance

    @property
    def future_tolerance(self) -> float | None:
        return self._primary.future_tolerance

    @property
    def required_headers(self) -> tuple[str, ...]:
        return (PRIMARY, TIMESTAMP, VERSION, ALGORITHM)

    @property
    def replay_default(self) -> ReplayMode:
        # id: the body's signed event id (box-delivery-id changes on each retry
        # and is not signed); a body without it falls back to content
        return self._primary.replay_default

    @property
    def replay_window(self) -> float | None:
        return self._primary.replay_window

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify a Box delivery.

        Order, as Box's SDK: primary over the raw body, primary over the
        escaped body (:func:`escape_body`; accepted only when it is the same
        JSON document), then the same with the secondary signature.

        Raises:
            UnsupportedSignatureVersion: version is not ``1`` or the algorithm
                is not ``HmacSHA256``.
            VerificationError: any other failure (timestamp outside the window,
                no signature matches, ...).
        """
        if now is None:
            now = request.received_at
        if single_header(request, VERSION) != "1":
            raise UnsupportedSignatureVersion(
                f"{VERSION} is not 1, the only version Box documents", header=VERSION
            )
        if single_header(request, ALGORITHM) != "HmacSHA256":
            raise UnsupportedSignatureVersion(
                f"{ALGORITHM} is not HmacSHA256, the only algorithm Box documents",
                header=ALGORITHM,
            )
        escaped: bytes | None = None
        escaped_known = False
        first_error: VerificationError | None = None
        for inner in (self._primary, self._secondary):
            if inner is self._secondary and SECONDARY not in request.headers:
                break
            try:
                return inner.verify(request, now)
            except MalformedSignature as exc:
                first_error = first_error or exc
                continue  # no message can match it: no escaped form to try
            except SignatureMismatch as exc:
                first_error = first_error or exc
            if not escaped_known:
                escaped, escaped_known = escape_body(request.body), True
            if escaped is not None:
                try:
                    verification = inner.verify(request.replace(body=escaped), now)
                except (SignatureMismatch, MalformedSignature):
                    continue
                if _same_document(request.body, escaped):
                    return verification
                first_error = SignatureMismatch(
                    "the body verifies only in Box's escaped form, and that form is a "
                    "different JSON document",
                    header=inner.header,
                )
        raise first_error or SignatureMismatch(
            f"the signature in {PRIMARY} does not match", header=PRIMARY
        )

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """Return the headers Box would send for ``body``.

        ``timestamp=`` (RFC 3339) may replace the one made from ``now``.

        Raises:
            NoValidKey: no key is valid at ``now``.
        """
        moment = time.time() if now is None else now
        stamp = parts.get("timestamp") or format_timestamp(moment, "rfc3339")
        valid = [s for s in self.secrets if s.is_valid_at(moment)]
        if not valid:
            raise NoValidKey()
        headers = {VERSION: "1", ALGORITHM: "HmacSHA256"}
        signers = [(PRIMARY, valid[-1])] + ([(SECONDARY, valid[-2])] if len(valid) > 1 else [])
        for header, key in signers:
            signer = _hmac((key,), header, self.tolerance, self.future_tolerance)
            headers.update(signer.sign(body, moment, timestamp=stamp))
        return headers

    def __repr__(self) -> str:
        return f"BoxVerifier(tolerance={self.tolerance!r}, secrets=<{len(self.secrets)} hidden>)"


def _hmac(
    keys: tuple[Secret, ...], header: str, tolerance: float | None, future: float | None
) -> HmacVerifier:
    return hmac_preset(
        "box",
        secret=None,
        secrets=keys,
        header=header,
        encoding="base64",
        template="{body}{timestamp}",
        timestamp_header=TIMESTAMP,
        timestamp_format="rfc3339",
        id_field=ID_FIELD,
        tolerance=tolerance,
        future_tolerance=future,
    )


def _named(secret: Secret, name: str) -> Secret:
    """Give a key passed as text Box's own name for it, for Verification.key_id."""
    if secret.key_id is not None:
        return secret
    return Secret(
        secret.value, key_id=name, not_before=secret.not_before, not_after=secret.not_after
    )


def box(
    *,
    secret: SecretInput | None = None,
    secondary_secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = BOX_TOLERANCE,
    future_tolerance: float | None = BOX_FUTURE_TOLERANCE,
) -> BoxVerifier:
    """Box webhooks (v2).

    Secret: the *Primary Key* (``secret=``) and *Secondary Key*
    (``secondary_secret=``) under *Developer Console > (your app) > Webhooks >
    Manage signature keys*.

    Signed: ``{raw body}{box-delivery-timestamp}`` (RFC 3339), HMAC-SHA256,
    base64, twice: ``box-signature-primary`` with the primary key and
    ``box-signature-secondary`` with the secondary key, so one key can be
    rotated while the other verifies. ``box-signature-version`` must be ``1``
    and ``box-signature-algorithm`` ``HmacSHA256``. Window: Box's ten minutes
    for the past; 300 s for the future (Box's generated SDK allows none, its
    documentation says nothing: pass ``future_tolerance=0`` for the SDK's rule).

    Box's quirk: its SDKs also accept a signature over the body re-escaped as
    ASCII JSON (non-ASCII as lower-case ``\\uXXXX``, control characters as
    ``\\n``/``\\r``/``\\t``/``\\u00XX``, backslashes doubled unless before ``/``),
    since some deliveries are signed that way. This preset does the same, in
    the SDK's order: primary over the raw body, then the escaped body, then the
    secondary signature likewise; but it accepts the escaped form only when it
    parses to the same JSON value as the body (escaping doubles backslashes, so
    a body ``"C:\\new"`` would otherwise verify against Box's ``"C:\\\\new"``
    and mean a newline), and only for a body with at most 1,024 places and
    16 KiB to escape (``MAX_ESCAPE_RUNS``, ``MAX_ESCAPED_BYTES``), since it is
    tried before any signature is known to be good.

    Replay id: the signed ``id`` field of the body (the event's id, which
    stays the same when Box retries), read after the signature has passed.
    ``box-delivery-id`` changes on every retry and is not signed; Box signs
    each retry again with a new ``box-delivery-timestamp``.

    Source: Box developer docs "Signature verification"
    (https://developer.box.com/guides/webhooks/v2/signatures-v2/) and
    box/box-python-sdk-gen ``box_sdk_gen/managers/webhooks.py``
    (``validate_message``) and ``box_sdk_gen/internal/utils.py``
    (``compute_webhook_signature``, ``escape_unicode``), used as an oracle in
    the tests.
    """
    return BoxVerifier(
        secret=secret,
        secondary_secret=secondary_secret,
        secrets=secrets,
        tolerance=tolerance,
        future_tolerance=future_tolerance,
    )
