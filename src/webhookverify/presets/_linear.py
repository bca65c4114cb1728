"""Linear: an HMAC over the body, and a signed timestamp inside the JSON body.

Linear signs the raw body (``Linear-Signature``: lower-case hex HMAC-SHA256)
and puts the delivery time in the body itself, as the top-level
``webhookTimestamp`` member (unix milliseconds). Since the body is signed, the
timestamp is signed too; it is read only after the signature has passed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable

from ..errors import MalformedBody
from ..request import WebhookRequest
from ..verifiers._base import (
    ReplayMode,
    Verification,
    check_freshness,
    parse_timestamp,
    replay_window,
)
from ._common import HmacBased, SecretInput, hmac_preset

__all__ = ["LINEAR_TOLERANCE", "LinearVerifier", "linear"]

HEADER = "Linear-Signature"
TIMESTAMP_FIELD = "webhookTimestamp"
# Linear's SDK refuses a webhookTimestamp more than one minute away from its
# clock, in either direction (packages/sdk/src/webhooks/client.ts).
LINEAR_TOLERANCE = 60.0
# Linear puts webhookTimestamp near the end of the top-level object, followed
# by a few short members (webhookId). When the text after it is no longer than
# this, only that tail is parsed; otherwise the whole body is, which costs as
# much as hashing it several times over.
_MAX_TAIL = 64 * 1024
_KEY = b'"' + TIMESTAMP_FIELD.encode("ascii") + b'"'


def _timestamp_text(body: bytes) -> str:
    """Return the top-level ``webhookTimestamp`` of a JSON object body, as text.

    The fast path finds the last ``"webhookTimestamp"`` key and parses only the
    text from there to the end, as the members of one object: that succeeds
    only when the key sits at the top level and nothing but the object's
    closing brace follows, and it keeps JSON's last-member-wins rule. Anything
    else falls back to parsing the whole body.

    Raises:
        MalformedBody: not a JSON object, or no integer ``webhookTimestamp``.
    """
    value: object = None
    found = False
    start = body.rfind(_KEY)
    if start > 0 and len(body) - start <= _MAX_TAIL:
        backslashes = 0
        while backslashes < start and body[start - 1 - backslashes] == 0x5C:  # no copy
            backslashes += 1
        if backslashes % 2 == 0:  # an unescaped quote: the key starts here
            try:
                members = json.loads("{" + body[start:].decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                members = None
            if isinstance(members, dict) and TIMESTAMP_FIELD in members:
                value, found = members[TIMESTAMP_FIELD], True
    if not found:
        try:
            document = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise MalformedBody("the Linear body is not valid UTF-8 JSON") from None
        if not isinstance(document, dict) or TIMESTAMP_FIELD not in document:
            raise MalformedBody(
                f"the Linear body has no top-level {TIMESTAMP_FIELD}; Linear signs the "
                "delivery time there"
            )
        value = document[TIMESTAMP_FIELD]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedBody(f"{TIMESTAMP_FIELD} in the Linear body is not whole milliseconds")
    return str(value)


class LinearVerifier(HmacBased):
    """Verify a Linear webhook: the body's HMAC, then the timestamp inside it.

    Args:
        secret: the webhook's signing secret(s), oldest first.
        secrets: several, for a rotation, instead of ``secret``.
        tolerance: how old ``webhookTimestamp`` may be, in seconds (default 60,
            as Linear's SDK); ``None`` turns the check off.
        future_tolerance: how far ahead it may be (default 60, as the SDK;
            ``None``: the same as ``tolerance``).

    Raises:
        ConfigurationError: no secret, or a negative tolerance.
    """

    __slots__ = ()

    def __init__(
        self,
        *,
        secret: SecretInput | None = None,
        secrets: Iterable[SecretInput] | None = None,
        tolerance: float | None = LINEAR_TOLERANCE,
        future_tolerance: float | None = LINEAR_TOLERANCE,
    ) -> None:
        # The HMAC covers the body alone; the window, which the inner verifier
        # checks and keeps (future_tolerance None: the same as tolerance), is
        # applied here to the timestamp found in the body once it is verified.
        inner = hmac_preset(
            "linear",
            secret=secret,
            secrets=secrets,
            header=HEADER,
            encoding="hex_lower",
            tolerance=tolerance,
            future_tolerance=future_tolerance,
        )
        super().__init__(inner)

    @property
    def tolerance(self) -> float | None:
        """Seconds ``webhookTimestamp`` may lie in the past; ``None``: unchecked."""
        return self._inner.tolerance

    @property
    def future_tolerance(self) -> float | None:
        """Seconds ``webhookTimestamp`` may lie ahead of this clock."""
        return self._inner.future_tolerance

    @property
    def required_headers(self) -> tuple[str, ...]:
        return self._inner.required_headers

    @property
    def replay_default(self) -> ReplayMode:
        # content: Linear signs no delivery id (Linear-Delivery is unsigned)
        return self._inner.replay_default

    @property
    def replay_window(self) -> float | None:
        """Seconds a replayed delivery could still pass the timestamp check."""
        return replay_window(self.tolerance, self.future_tolerance)

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify the signature, then hold ``webhookTimestamp`` to the window.

        Returns:
            the :class:`Verification`, with the body's timestamp in seconds.

        Raises:
            VerificationError: a missing or wrong signature
                (``signature_mismatch``, ...), a body without a valid
                ``webhookTimestamp`` (``malformed_body``/``malformed_timestamp``)
                or one outside the window (``timestamp_too_old``/``_in_future``).
        """
        if now is None:
            now = request.received_at
        verification = self._inner.verify(request, now)
        stamp = parse_timestamp(_timestamp_text(request.body), "unix_ms", TIMESTAMP_FIELD)
        check_freshness(stamp, now, self.tolerance, self.future_tolerance, TIMESTAMP_FIELD)
        return verification._replace(timestamp=stamp)

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """Sign ``body`` as Linear does; it must already hold its ``webhookTimestamp``.

        Raises:
            MalformedBody: the body has no top-level integer ``webhookTimestamp``
                (a body this verifier could never accept).
            NoValidKey: no secret is valid at ``now``.
        """
        _timestamp_text(body)
        return self._inner.sign(body, time.time() if now is None else now)

    def __repr__(self) -> str:
        return f"LinearVerifier(tolerance={self.tolerance!r}, secrets=<{len(self.secrets)} hidden>)"


def linear(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = LINEAR_TOLERANCE,
    future_tolerance: float | None = LINEAR_TOLERANCE,
) -> LinearVerifier:
    """Linear webhooks.

    Secret: the webhook's *signing secret* (``lin_wh_...``), in *Settings > API
    > Webhooks > (the webhook)*.

    Signed: the raw body, HMAC-SHA256, ``Linear-Signature: <lower-case hex>``
    (no prefix). Linear's timestamp is not in a header: it is the body's
    top-level ``webhookTimestamp`` (unix **milliseconds**), signed along with
    the rest of the body and held here to Linear's one-minute window, both
    ways, after the signature has passed. A body without it is refused (the
    SDK skips the check then; a signed timestamp is never optional here).

    Replay id: content hash. ``Linear-Delivery`` is not signed, and the
    body's ``webhookId`` names the webhook, not the delivery.

    Source: Linear docs "Webhooks > Securing webhooks"
    (https://linear.app/developers/webhooks) and linear/linear
    ``packages/sdk/src/webhooks/client.ts`` (``LinearWebhookClient.verify``);
    checked against that SDK's verdicts on its own test's request.
    """
    return LinearVerifier(
        secret=secret, secrets=secrets, tolerance=tolerance, future_tolerance=future_tolerance
    )
