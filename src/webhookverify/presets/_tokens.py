"""Senders that send a shared token instead of a signature: GitLab's secret
token, Okta's hook authentication, Telegram's secret token, and the HTTP
Basic credentials of Postmark, Bandwidth and SparkPost.

A token proves far less than a signature: it covers neither the body nor the
time, so whoever sees one request can send any body with it, at any time, and
nothing tells a replay from a new delivery. Replay protection is off for
these presets. Serve such endpoints over HTTPS only, and prefer a signing
scheme wherever the sender offers one (``presets.gitlab_signing``).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..verifiers import TokenVerifier
from ._common import SecretInput, token_preset
from ._handshakes import HeaderChallenge

__all__ = ["bandwidth", "gitlab", "okta", "postmark", "sparkpost", "telegram"]


def gitlab(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
) -> TokenVerifier:
    """GitLab's secret token (``X-Gitlab-Token``).

    Secret: *Project (or group) > Settings > Webhooks > (the webhook) >
    Secret token*, the text you typed there.

    Signed: nothing. GitLab sends the token itself in ``X-Gitlab-Token``,
    compared here in constant time. A token proves less than a signature: it
    does not cover the body, so whoever sees one delivery (a logging proxy, a
    TLS terminator) can send any body with it, and nothing tells a replay from
    a new delivery. Serve the endpoint over HTTPS only, and prefer
    ``presets.gitlab_signing`` (GitLab's HMAC signing token, Standard
    Webhooks format) wherever your GitLab offers it.

    Replay id: none, replay protection is off; nothing is signed, and the
    ``Idempotency-Key`` header (the same on every retry) is not covered by
    anything, so it is never used.

    Source: GitLab docs "Webhooks > Validate payloads by using a secret token"
    (https://docs.gitlab.com/user/project/integrations/webhooks/);
    cross-checked against self-generated vectors only (there is nothing more
    to a token than the comparison).

    Args:
        secret: the token, as text or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).

    Returns:
        A ``TokenVerifier`` reading ``X-Gitlab-Token``.

    Raises:
        ConfigurationError: no secret, both ``secret`` and ``secrets``, or an
            empty one.
    """
    return token_preset("gitlab", secret=secret, secrets=secrets, header="X-Gitlab-Token")


def okta(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    header: str = "Authorization",
) -> TokenVerifier:
    """Okta event hooks and inline hooks with header authentication.

    Secret: the *Authentication secret* you set on the hook (the whole header
    value, e.g. ``Basic YWRt...`` or a random token); ``header=`` is the
    *Authentication field* (default ``Authorization``).

    Nothing is signed: Okta sends the configured value verbatim, compared here
    in constant time. A static token proves far less than a signature: it
    does not cover the body, and anyone who sees one request (a logging proxy,
    a TLS terminator) can send any body with it, at any time; nothing tells a
    replay from a new event. Serve the endpoint over HTTPS only, use a long
    random value, and rotate it with ``secrets=[old, new]``. Okta's one-time
    GET verification also carries the header: the receiver verifies it,
    then answers ``{"verification": <X-Okta-Verification-Challenge>}``.

    Replay id: none, replay protection is off: nothing is signed, so the
    body's ``eventId`` proves nothing and is never used.

    Source: Okta docs "Event hooks > Verify the endpoint" and "Secure your
    hooks" (https://developer.okta.com/docs/concepts/event-hooks/,
    https://developer.okta.com/docs/guides/secure-hooks/).
    """
    handshake = HeaderChallenge("okta.verification", "X-Okta-Verification-Challenge")
    return token_preset("okta", secret=secret, secrets=secrets, header=header, handshake=handshake)


def telegram(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
) -> TokenVerifier:
    """Telegram Bot API webhooks with a secret token.

    Secret: the ``secret_token`` you passed to ``setWebhook`` (1 to 256
    characters among ``A-Z``, ``a-z``, ``0-9``, ``_`` and ``-``); Telegram
    never shows it again.

    Signed: nothing. Telegram sends the token itself in
    ``X-Telegram-Bot-Api-Secret-Token`` on every update, compared here in
    constant time. A token proves less than a signature: it does not cover
    the body, so whoever sees one update (a logging proxy, a TLS terminator)
    can send any body with it, at any time. Telegram offers nothing
    stronger; serve the endpoint over HTTPS only and use a long random token.
    To rotate, call ``setWebhook`` with the new token while both are listed
    here (``secrets=[old, new]``).

    Replay id: none, replay protection is off; nothing is signed, so the
    body's ``update_id`` proves nothing and is never used.

    Source: Telegram Bot API "setWebhook"
    (https://core.telegram.org/bots/api#setwebhook); cross-checked against
    self-generated vectors only (there is nothing more to a token than the
    comparison).

    Args:
        secret: the token, as text or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).

    Returns:
        A ``TokenVerifier`` reading ``X-Telegram-Bot-Api-Secret-Token``.

    Raises:
        ConfigurationError: no secret, both ``secret`` and ``secrets``, or an
            empty one.
    """
    return token_preset(
        "telegram", secret=secret, secrets=secrets, header="X-Telegram-Bot-Api-Secret-Token"
    )


def postmark(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    username: str | None = None,
) -> TokenVerifier:
    """Postmark webhooks protected with HTTP Basic authentication.

    Secret: the password you put in the webhook URL
    (``https://user:password@example.com/webhooks``) in *Servers > (the
    server) > (the stream) > Webhooks > (the webhook)*, or in the
    ``HttpAuth`` of the Webhooks API; ``username=`` is the user name there.
    Postmark sends them as ``Authorization: Basic <base64(user:password)>``.

    Signed: nothing; Postmark signs no webhook. The credentials are compared
    in constant time (the user name too when ``username=`` is given: give
    it). They prove less than a signature: they do not cover the body, so
    whoever sees one delivery can send any body with them, at any time.
    Serve the endpoint over HTTPS only and use a long random password;
    rotate with ``secrets=[old, new]``.

    Replay id: none, replay protection is off; nothing is signed, so the
    body's ``MessageID`` proves nothing and is never used.

    Source: Postmark docs "Webhooks overview > Protecting your webhook"
    (https://postmarkapp.com/developer/webhooks/webhooks-overview) and RFC
    7617 (the Basic scheme); cross-checked against self-generated vectors
    (Postmark publishes none for a scheme that signs nothing).

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
    return token_preset("postmark", secret=secret, secrets=secrets, username=username)


def bandwidth(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    username: str | None = None,
) -> TokenVerifier:
    """Bandwidth callbacks (Voice, Messaging and the other APIs' webhooks)
    protected with HTTP Basic authentication.

    Secret: the *callback password* set on the application (*Applications >
    (the application) > Callback authentication*, or the
    ``callbackCreds``/``CallbackCreds`` of the Applications API, or per call
    as ``callbackPassword``); ``username=`` is the callback user name beside
    it. Bandwidth sends them as ``Authorization: Basic
    <base64(user:password)>``.

    Signed: nothing; Bandwidth signs no callback. The credentials are
    compared in constant time (the user name too when ``username=`` is
    given: give it). They prove less than a signature: they do not cover the
    body, so whoever sees one callback can send any body with them, at any
    time. Serve the endpoint over HTTPS only and use a long random password;
    rotate with ``secrets=[old, new]``.

    Replay id: none, replay protection is off; nothing is signed, so the
    body's ``callId`` or ``message.id`` proves nothing and is never used.

    Source: Bandwidth docs "Webhooks > Callback authentication"
    (https://dev.bandwidth.com/docs/voice/programmable-voice/webhooks/ and
    the Applications API's ``callbackCreds``) and RFC 7617 (the Basic
    scheme); cross-checked against self-generated vectors (there is nothing
    more to Basic credentials than the comparison).

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
    return token_preset("bandwidth", secret=secret, secrets=secrets, username=username)


def sparkpost(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    username: str | None = None,
) -> TokenVerifier:
    """SparkPost (Bird) event webhooks with Basic authentication.

    Secret: the password of the webhook's *Authentication: Basic Auth*
    (*Configuration > Webhooks > (the webhook)*, or ``auth_type: "basic"``
    with ``auth_credentials: {"username", "password"}`` in the Webhooks
    API); ``username=`` is the user name there. SparkPost sends them as
    ``Authorization: Basic <base64(user:password)>``. Its other option,
    OAuth 2.0, sends a bearer token it fetched from your token endpoint:
    this preset does not cover it.

    Signed: nothing; SparkPost signs no webhook. The credentials are
    compared in constant time (the user name too when ``username=`` is
    given: give it). They prove less than a signature: they do not cover the
    body, so whoever sees one batch can send any body with them, at any
    time. Serve the endpoint over HTTPS only and use a long random password;
    rotate with ``secrets=[old, new]``.

    Replay id: none, replay protection is off; the ``X-MessageSystems-Batch-ID``
    header is not covered by anything, so it is never used.

    Source: SparkPost API reference "Webhooks > Create a webhook"
    (``auth_type``, ``auth_credentials``;
    https://developers.sparkpost.com/api/webhooks/) and RFC 7617 (the Basic
    scheme); cross-checked against self-generated vectors (there is nothing
    more to Basic credentials than the comparison).

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
    return token_preset("sparkpost", secret=secret, secrets=secrets, username=username)
