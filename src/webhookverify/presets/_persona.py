"""Persona webhooks: ``Persona-Signature: t=<unix>,v1=<hex>``, HMAC-SHA256 of
``{t}.{body}``, and while a secret rotates two such sets separated by a space
(``t=...,v1=... t=...,v1=...``), each with its own timestamp.

A second set does not fit Stripe's comma-separated layout (its ``t=`` would
be read into the first set's signature), so each set is checked on its own:
the delivery verifies if any set does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from ..errors import MalformedHeader, VerificationError
from ..request import WebhookRequest
from ..verifiers._base import DEFAULT_TOLERANCE, Verification, single_header
from ._common import STRIPE_LAYOUT, HmacWrapper, SecretInput, hmac_preset

__all__ = ["PersonaVerifier", "persona"]

HEADER: Final = "Persona-Signature"
# Persona sends one set, or two while a secret rotates; a few more are allowed
# so that a rotation started during another is not refused, no more so that a
# forged header cannot make a request cost many HMACs.
MAX_SETS: Final = 4
# A set starts at "t=" after whitespace: "t=1,v1=ab t=2,v1=cd".
_SETS = re.compile(r"\s+(?=t=)")
# Persona documents no window; the library's five minutes apply, both ways.
PERSONA_TOLERANCE: Final = DEFAULT_TOLERANCE


class PersonaVerifier(HmacWrapper):
    """Verify ``Persona-Signature``, one ``t=...,v1=...`` set or several.

    Args:
        secret: the webhook's secret(s), oldest first.
        secrets: several, for a rotation, instead of ``secret``.
        tolerance: how old each set's ``t`` may be, in seconds.
        future_tolerance: how far ahead of the clock it may be.

    Raises:
        ConfigurationError: no secret, or a bad tolerance.
    """

    __slots__ = ()

    def __init__(
        self,
        *,
        secret: SecretInput | None = None,
        secrets: Iterable[SecretInput] | None = None,
        tolerance: float | None = PERSONA_TOLERANCE,
        future_tolerance: float | None = DEFAULT_TOLERANCE,
    ) -> None:
        inner = hmac_preset(
            "persona",
            secret=secret,
            secrets=secrets,
            header=HEADER,
            header_format=STRIPE_LAYOUT,
            template="{timestamp}.{body}",
            encoding="hex_lower",
            id_field=("data", "id"),
            tolerance=tolerance,
            future_tolerance=future_tolerance,
        )
        super().__init__(inner)

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify each ``t=...,v1=...`` set of the header until one passes.

        Returns:
            The :class:`Verification` of the first set that passes; its
            ``delivery_id`` is the verified body's ``data.id``, when it has one.

        Raises:
            VerificationError: no header, more than ``MAX_SETS`` sets, or no
                set that verifies (the first set's error).
        """
        sets = _SETS.split(single_header(request, HEADER).strip())
        if len(sets) == 1:
            return self._inner.verify(request, now)
        if len(sets) > MAX_SETS:
            raise MalformedHeader(f"the {HEADER} header has too many signature sets", header=HEADER)
        others = [(k, v) for k, v in request.headers.raw_items() if k.lower() != HEADER.lower()]
        errors: list[VerificationError] = []
        for one in sets:
            try:
                return self._inner.verify(request.replace(headers=[*others, (HEADER, one)]), now)
            except VerificationError as error:
                errors.append(error)
        raise errors[0]

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """Return ``Persona-Signature: t=<unix>,v1=<hex>`` for ``body`` (one set).

        Raises:
            NoValidKey: no secret is valid at ``now``.
        """
        return self._inner.sign(body, now, **parts)

    def __repr__(self) -> str:
        return f"PersonaVerifier(secrets=<{len(self.secrets)} hidden>)"


def persona(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = PERSONA_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
) -> PersonaVerifier:
    """Persona webhooks (``Persona-Signature: t=...,v1=...``).

    Secret: the webhook's secret (``wbhsec_...``), in *Dashboard > Webhooks >
    (the webhook)*; the whole text is the HMAC key.

    Signed: ``{t}.{raw body}``, HMAC-SHA256, sent as ``Persona-Signature:
    t=<unix>,v1=<lower-case hex>``. While a secret rotates (in the Dashboard
    or with the rotate-secret API), the header holds two such sets
    separated by a space, one per secret, each with its own ``t``: the
    delivery verifies if any set does, so list the secret you have. Persona
    names no window; the library's five minutes apply, both ways.

    Replay id: the signed ``data.id`` field of the body (the event's
    ``evt_...`` id, the same on every retry), read after the signature has
    passed; ``Persona-Webhook-Attempts-Made`` is not signed and never read.
    A body without the id falls back to the content hash.

    Source: Persona docs "Webhook Best Practices > Checking signatures"
    (https://docs.withpersona.com/docs/webhooks-best-practices); Persona
    publishes no SDK and no vector, so the tests use vectors built from the
    documented algorithm.

    Args:
        secret: the secret, as text (UTF-8) or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        tolerance: seconds a timestamp may lie in the past; ``None`` turns
            the check off (by name only).
        future_tolerance: seconds it may lie ahead of this clock.

    Returns:
        A ``PersonaVerifier`` reading ``Persona-Signature``.

    Raises:
        ConfigurationError: a missing or empty secret, or a negative or
            non-numeric tolerance.
    """
    return PersonaVerifier(
        secret=secret, secrets=secrets, tolerance=tolerance, future_tolerance=future_tolerance
    )
