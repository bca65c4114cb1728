"""Mollie next-gen webhooks: ``X-Mollie-Signature: sha256=<hex>`` over the body.

Mollie's PHP SDK (``src/Webhooks/SignatureValidator.php``) is lenient in two
ways that real deployments rely on, so this verifier is too: the ``sha256=``
prefix is optional, and several signature values are accepted, in repeated
header fields or comma-joined in one (as a proxy folds them, RFC 9110 §5.3),
any of which may match any configured secret.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from ..errors import MissingHeader
from ..request import WebhookRequest
from ..verifiers._base import ReplayMode, Verification
from ..verifiers._bodyid import body_id
from ._common import HmacBased, SecretInput, hmac_preset

__all__ = ["MollieVerifier", "mollie"]

HEADER: Final = "X-Mollie-Signature"
PREFIX: Final = "sha256="
# The body's "id" (event_...): the event's own, the same on every retry.
ID_FIELD: Final = ("id",)


class MollieVerifier(HmacBased):
    """Verify ``X-Mollie-Signature`` (HMAC-SHA256 of the raw body, lower-case hex).

    Args:
        secret: the webhook's signing secret(s), oldest first.
        secrets: several, for a rotation, instead of ``secret``.

    Raises:
        ConfigurationError: no secret.
    """

    __slots__ = ()

    def __init__(
        self,
        *,
        secret: SecretInput | None = None,
        secrets: Iterable[SecretInput] | None = None,
    ) -> None:
        super().__init__(
            hmac_preset(
                "mollie",
                secret=secret,
                secrets=secrets,
                header=HEADER,
                encoding="hex_lower",
                prefix=PREFIX,
            )
        )

    @property
    def required_headers(self) -> tuple[str, ...]:
        return self._inner.required_headers

    @property
    def replay_default(self) -> ReplayMode:
        return "id"  # the body's signed event id; without one, the content hash

    @property
    def replay_window(self) -> float | None:
        return self._inner.replay_window  # None: no timestamp is signed

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify any of the signatures sent against any configured secret.

        Returns:
            The :class:`Verification`; its ``delivery_id`` is the verified
            body's ``id``, when it has one.

        Raises:
            VerificationError: no signature header, too many signatures, or
                none that matches.
        """
        values = request.headers.get_all(HEADER)
        if not values:
            raise MissingHeader(f"the {HEADER} header is missing", header=HEADER)
        # Every value of every field, the sha256= prefix optional (as the SDK reads them).
        candidates = [
            item if item.startswith(PREFIX) else PREFIX + item
            for value in values
            for item in (entry.strip() for entry in value.split(","))
        ]
        verification = self._inner.verify_message(
            candidates, (request.body,), request.received_at if now is None else now
        )
        found = body_id(request.body, ID_FIELD)  # verified: the id is signed material
        return verification if found is None else verification._replace(delivery_id=found)

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """Return ``X-Mollie-Signature: sha256=<hex>`` for ``body``.

        Raises:
            NoValidKey: no secret is valid at ``now``.
        """
        return self._inner.sign(body, now)

    def __repr__(self) -> str:
        return f"MollieVerifier(secrets=<{len(self.secrets)} hidden>)"


def mollie(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> MollieVerifier:
    """Mollie next-gen webhooks.

    Secret: the webhook's *signing secret*, in *Dashboard > Developers >
    Webhooks*. Classic Mollie webhooks (a bare ``id=tr_...`` form post) are
    not signed at all: fetch the object from the API instead.

    Signed: the raw body, HMAC-SHA256, ``X-Mollie-Signature: sha256=<lower-case
    hex>``. As Mollie's SDK, the prefix is optional, several signatures (header
    fields repeated or comma-joined) are accepted, and any may match any of
    ``secrets`` during a rotation.

    Replay id: the signed ``id`` field of the body (``event_...``), read after
    the signature has passed (a body without it: content hash).

    Source: Mollie docs "Webhooks: best practices"
    (https://docs.mollie.com/reference/webhooks-best-practices) and
    mollie/mollie-api-php ``src/Webhooks/SignatureValidator.php`` with its tests.
    """
    return MollieVerifier(secret=secret, secrets=secrets)
