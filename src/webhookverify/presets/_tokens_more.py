"""More senders that send a shared secret instead of a signature: Flutterwave's
``verif-hash``, Chargebee's HTTP Basic credentials and Xendit's
``x-callback-token``.

What ``_tokens`` says holds here too: a token covers neither the body nor the
time, so whoever sees one request can send any body with it, at any time, and
nothing tells a replay from a new delivery. Replay protection is off for
these presets; serve such endpoints over HTTPS only.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..verifiers import TokenVerifier
from ._common import SecretInput, token_preset

__all__ = ["chargebee", "flutterwave", "xendit"]


def flutterwave(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
) -> TokenVerifier:
    """Flutterwave webhooks with a secret hash (``verif-hash``).

    Secret: the *Secret hash* you set in *Flutterwave Dashboard > Settings >
    Webhooks*, as typed there.

    Signed: nothing. Flutterwave sends the secret hash itself, unchanged, in
    ``verif-hash`` on every webhook, compared here in constant time. It proves
    less than a signature: it does not cover the body, so whoever sees one
    delivery (a logging proxy, a TLS terminator) can send any body with it, at
    any time. Serve the endpoint over HTTPS only, use a long random value,
    and re-query the transaction through Flutterwave's API before acting on
    it, as Flutterwave advises; rotate with ``secrets=[old, new]``.

    Replay id: none, replay protection is off; nothing is signed, so the
    body's ``data.id`` proves nothing and is never used.

    Source: Flutterwave docs "Webhooks > Verifying webhook signatures"
    (https://developer.flutterwave.com/docs/webhooks); cross-checked against
    self-generated vectors only (there is nothing more to a token than the
    comparison).

    Args:
        secret: the secret hash, as text or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).

    Returns:
        A ``TokenVerifier`` reading ``verif-hash``.

    Raises:
        ConfigurationError: no secret, both ``secret`` and ``secrets``, or an
            empty one.
    """
    return token_preset("flutterwave", secret=secret, secrets=secrets, header="verif-hash")


def chargebee(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    username: str | None = None,
) -> TokenVerifier:
    """Chargebee webhooks protected with HTTP Basic authentication.

    Secret: the *Password* under *Protect webhook URL with basic
    authentication* of the webhook (*Settings > Configure Chargebee >
    Webhooks > (the webhook)*); ``username=`` is the *Username* there.
    Chargebee sends them as ``Authorization: Basic <base64(user:password)>``.

    Signed: nothing; Chargebee signs no webhook. The credentials are compared
    in constant time (the user name too when ``username=`` is given: give
    it). They prove less than a signature: they do not cover the body, so
    whoever sees one delivery can send any body with them, at any time.
    Serve the endpoint over HTTPS only, use a long random password, and
    rotate with ``secrets=[old, new]``.

    Replay id: none, replay protection is off; nothing is signed, so the
    body's event ``id`` proves nothing and is never used.

    Source: Chargebee docs "Webhooks > Basic authentication"
    (https://www.chargebee.com/docs/2.0/webhook_settings.html) and RFC 7617
    (the Basic scheme); checked against the verdicts of the ``chargebee``
    Node SDK's ``basicAuthValidator``.

    Args:
        secret: the password, as text or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        username: the user name that must come with the password.

    Returns:
        A ``TokenVerifier`` reading ``Authorization``.

    Raises:
        ConfigurationError: no secret, both ``secret`` and ``secrets``, or an
            empty one.
    """
    return token_preset("chargebee", secret=secret, secrets=secrets, username=username)


def xendit(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
) -> TokenVerifier:
    """Xendit callbacks (webhooks) with a verification token.

    Secret: the *Webhook verification token* in *Xendit Dashboard >
    Settings > Developers > Webhooks* (one per account and environment), as
    shown there.

    Signed: nothing. Xendit sends the token itself, unchanged, in
    ``x-callback-token`` on every callback, compared here in constant time.
    It proves less than a signature: it does not cover the body, so whoever
    sees one delivery can send any body with it, at any time. Serve the
    endpoint over HTTPS only and fetch the object through Xendit's API
    before acting on it; rotate with ``secrets=[old, new]``.

    Replay id: none, replay protection is off; nothing is signed, so the
    ``webhook-id`` header and the body's ``id`` prove nothing and are never
    used.

    Source: Xendit docs "Webhooks > Verify webhook"
    (https://docs.xendit.co/docs/handling-webhooks); cross-checked against
    self-generated vectors only (there is nothing more to a token than the
    comparison).

    Args:
        secret: the verification token, as text or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).

    Returns:
        A ``TokenVerifier`` reading ``x-callback-token``.

    Raises:
        ConfigurationError: no secret, both ``secret`` and ``secrets``, or an
            empty one.
    """
    return token_preset("xendit", secret=secret, secrets=secrets, header="x-callback-token")
