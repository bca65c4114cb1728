"""Senders of the ``X-Hub-Signature`` family: GitHub, Meta, Intercom, Bitbucket
and Jira.

Each signs the raw body alone with an HMAC and sends it as
``<algorithm>=<lower-case hex>``, the ``method=signature`` form WebSub
(formerly PubSubHubbub) gave ``X-Hub-Signature``. No timestamp is signed. Hex
is ``hex_lower``: each sender emits lower-case hex and its SDK or documented
sample compares that text byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._checks import check_flag
from ..routing import EventTypeReader, body_event_type, header_event_type
from ..verifiers import HmacVerifier
from ._common import SecretInput, hmac_preset, owner_of
from ._handshakes import HubChallenge
from ._protocol import github_event_type

__all__ = ["bitbucket", "github", "intercom", "jira", "meta"]


def github(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    legacy_sha1: bool = False,
) -> HmacVerifier:
    """GitHub (and GitHub Enterprise Server) webhooks.

    Secret: the repository's, organization's or app's *Settings > Webhooks >
    (the webhook) > Secret*; you choose it, GitHub never shows it again.

    Signed: the raw body, HMAC-SHA256, sent as ``X-Hub-Signature-256:
    sha256=<lower-case hex>``. GitHub's documented examples compare that text
    exactly, so upper-case hex is refused.

    Replay id: content hash; ``X-GitHub-Delivery`` is not signed, so it is
    never used (GitHub signs no timestamp and no delivery id; a redelivery
    carries the same body and is caught by content).

    Event type: ``X-GitHub-Event`` joined with the body's ``action``
    (``pull_request.opened``), marked unsigned: the header is not covered by
    the signature, so whoever replays a signed body can send it under another
    event name (the body's ``action`` cannot change).

    ``legacy_sha1=True`` verifies the old ``X-Hub-Signature: sha1=<hex>``
    header (HMAC-SHA1) instead, for GitHub Enterprise Server releases that
    send nothing else; GitHub.com sends both headers, and the default needs
    only the SHA-256 one.

    Source: GitHub docs "Validating webhook deliveries"
    (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries)
    and octokit/webhooks-methods.js ``src/node/verify.ts``; cross-checked
    against the docs' and octokit's test vectors (no GitHub SDK for Python is
    installed).

    Args:
        secret: the secret, as text (UTF-8) or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        legacy_sha1: verify ``X-Hub-Signature`` (HMAC-SHA1) instead.

    Returns:
        An ``HmacVerifier`` for the chosen header.

    Raises:
        ConfigurationError: no secret, both ``secret`` and ``secrets``, or an
            empty one.
    """
    if check_flag(legacy_sha1, "legacy_sha1", "presets.github"):
        return _hub_signature(
            "github", secret, secrets, algorithm="sha1", read_event_type=github_event_type
        )
    return _hub_signature(
        "github", secret, secrets, header="X-Hub-Signature-256", read_event_type=github_event_type
    )


def meta(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    verify_token: SecretInput | None = None,
) -> HmacVerifier:
    """Meta (Facebook, Instagram, WhatsApp Business, Messenger) Graph API webhooks.

    Secret: the app's *App Secret*, in the App Dashboard under *App settings >
    Basic*.

    Signed: the raw body, HMAC-SHA256, ``X-Hub-Signature-256:
    sha256=<lower-case hex>``. Meta signs the payload exactly as sent, with
    non-ASCII characters escaped (``\\u00e9``): verify the raw bytes, never a
    re-serialised object. The legacy SHA-1 ``X-Hub-Signature`` is not read.

    Replay id: content hash. A body batches ``entry`` items and holds no id
    of the delivery.

    Handshake: with ``verify_token`` (the *Verify Token* you typed in the
    dashboard), the endpoint answers Meta's verification GET
    (``hub.mode=subscribe&hub.challenge=...&hub.verify_token=...``) with the
    challenge, only when the token matches (constant-time). Meta signs
    nothing on that GET: the token is what proves it. Event type: the signed
    body's ``object`` (``page``, ``whatsapp_business_account``).

    Source: Meta for Developers, Graph API "Webhooks > Getting started >
    Validate payloads"
    (https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads);
    no Meta SDK is installed here: cross-checked against the documented
    algorithm and a vector built from it.
    """
    handshake = None
    if verify_token is not None:
        handshake = HubChallenge("meta.hub_challenge", verify_token, owner=owner_of("meta"))
    return _hub_signature(
        "meta",
        secret,
        secrets,
        header="X-Hub-Signature-256",
        handshake=handshake,
        read_event_type=body_event_type("object"),
    )


def intercom(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Intercom webhooks.

    Secret: the app's *client secret*, in the Developer Hub under *(your app) >
    Basic information*.

    Signed: the raw body with **HMAC-SHA1**, ``X-Hub-Signature:
    sha1=<lower-case hex>``. SHA-1 because Intercom offers nothing else.

    Event type: the signed body's ``topic`` (``conversation.user.created``).

    Replay id: the signed ``id`` field of the body (``notif_...``), read after
    the signature has passed. Intercom's retries change the body
    (``delivery_attempts``), so the content hash alone would not recognise
    them; a body without the id falls back to it.

    Source: Intercom developer docs "Webhooks > Signed notifications"
    (https://developers.intercom.com/docs/references/webhooks/webhook-models);
    cross-checked against the documented algorithm (no SDK verifies it).
    """
    return _hub_signature(
        "intercom",
        secret,
        secrets,
        algorithm="sha1",
        id_field="id",
        read_event_type=body_event_type("topic"),
    )


def bitbucket(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Bitbucket Cloud webhooks with a secret.

    Secret: *Repository settings > Webhooks > (the webhook) > Secret*, which you
    set or have Bitbucket generate.

    Signed: the raw body, HMAC-SHA256, in ``X-Hub-Signature:
    sha256=<lower-case hex>``: the header *name* GitHub uses for SHA-1, with a
    SHA-256 value.

    Event type: ``X-Event-Key`` (``repo:push``), marked unsigned: Bitbucket
    signs the body, not the header.

    Replay id: content hash; ``X-Request-UUID`` is not signed, so it is
    never used.

    Source: Bitbucket Cloud docs "Manage webhooks > Secure webhooks"
    (https://support.atlassian.com/bitbucket-cloud/docs/manage-webhooks/);
    cross-checked against the documented algorithm.
    """
    return _hub_signature(
        "bitbucket", secret, secrets, read_event_type=header_event_type("X-Event-Key")
    )


def jira(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Jira Cloud admin webhooks with a secret (WebSub-style signatures).

    Secret: *Jira settings > System > WebHooks > (the webhook) > Secret*, or
    ``secret`` when the webhook is registered through ``/rest/webhooks/1.0/webhook``.

    Signed: the raw body, HMAC-SHA256, ``X-Hub-Signature: sha256=<lower-case
    hex>`` (WebSub's ``method=signature``). Only admin webhooks carry it;
    webhooks that Connect or OAuth apps register carry a JWT in
    ``Authorization`` instead, which this preset does not read.

    Event type: the signed body's ``webhookEvent`` (``jira:issue_created``).

    Replay id: content hash; ``X-Atlassian-Webhook-Identifier`` is not
    signed, so it is never used.

    Source: Atlassian "Jira Cloud platform > Webhooks > Secure admin webhooks"
    (https://developer.atlassian.com/cloud/jira/platform/webhooks/);
    cross-checked against the documented algorithm.
    """
    return _hub_signature("jira", secret, secrets, read_event_type=body_event_type("webhookEvent"))


def _hub_signature(
    name: str,
    secret: SecretInput | None,
    secrets: Iterable[SecretInput] | None,
    *,
    header: str = "X-Hub-Signature",
    algorithm: str = "sha256",
    id_field: str | None = None,
    handshake: HubChallenge | None = None,
    read_event_type: EventTypeReader | None = None,
) -> HmacVerifier:
    """``<header>: <algorithm>=<lower-case hex>`` over the raw body."""
    return hmac_preset(
        name,
        secret=secret,
        secrets=secrets,
        header=header,
        algorithm=algorithm,
        encoding="hex_lower",
        prefix=f"{algorithm}=",
        id_field=id_field,
        handshake=handshake,
        read_event_type=read_event_type,
    )
