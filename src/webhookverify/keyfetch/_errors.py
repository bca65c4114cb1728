"""The refusals of fetched-key verification that are verdicts on the request
(401). A key that could not be had is :class:`~webhookverify.KeyUnavailable`
(503), in the main error tree, since the receiver answers it differently.
"""

from __future__ import annotations

from ..errors import VerificationError

__all__ = ["ClaimMismatch", "KeyUrlRefused", "UnknownKey", "UnreadableKey"]


class KeyUrlRefused(VerificationError):
    """The request names a key or certificate URL off the sender's hosts (or
    not ``https``, or off its key paths); nothing was fetched."""

    reason = "key_url_refused"
    default_message = "the request names a key URL this sender does not publish keys at"


class UnknownKey(VerificationError):
    """The request names a key id the sender's published key set does not
    hold, even after the one refetch the rate limit allows."""

    reason = "unknown_key"
    default_message = "the request names a key id the sender does not publish"


class UnreadableKey(VerificationError):
    """The sender publishes the key the request names, but in a form that
    cannot be used (an ActivityPub Multikey of another type, malformed
    base58, a controller other than the actor); the message says which."""

    reason = "unreadable_key"
    default_message = "the key the request names is published in a form that cannot be used"


class ClaimMismatch(VerificationError):
    """A signed claim is not what the configuration requires (issuer,
    audience, service-account e-mail, topic, body hash, expiry)."""

    reason = "claim_mismatch"
    default_message = "a signed claim does not match the configuration"
