"""webhookverify: receive webhooks safely.

Prove who sent a request, that nothing in it was altered, that it is fresh
and not a replay, then hand it to your code as an event.
"""

from .errors import (
    AccessDisabled,
    AmbiguousMatch,
    BodyOverLimit,
    BodyTooLarge,
    ConfigurationError,
    DeliveryDeclined,
    DuplicateHeader,
    InvalidRequest,
    KeyUnavailable,
    MalformedBody,
    MalformedHeader,
    MalformedSignature,
    MalformedTimestamp,
    MissingDelivery,
    MissingHeader,
    NoHandlerMatched,
    NoValidKey,
    PayloadError,
    ReplayStoreUnavailable,
    SignatureMismatch,
    TimestampInFuture,
    TimestampOutsideTolerance,
    TimestampTooOld,
    UnsupportedSignatureVersion,
    VerificationError,
    WebhookError,
)
from .events import EventBus
from .httpsig import CavageSignatureVerifier, HttpMessageSignatureVerifier
from .keys import Secret, parse_secret
from .receiver import Delivery, Outcome, Receiver, Rejection
from .registry import Handler, HandlerRegistry, Match
from .request import Headers, WebhookRequest
from .types import ReplayMode, Verification, Verifier
from .verifiers import (
    HmacVerifier,
    KeyValueHeader,
    MessageBuilder,
    MessageTemplate,
    TokenVerifier,
)

__version__ = "0.1.0.dev0"

# Public-key schemes need ``cryptography``'s heavier modules: they are loaded
# the first time one of these names is used, not when webhookverify is imported.
_LAZY = {
    "PublicKeyVerifier": "webhookverify.verifiers.asymmetric",
    "StandardWebhooksVerifier": "webhookverify.verifiers.standard",
    "MemoryReplayStore": "webhookverify.replay",
    "RedisReplayStore": "webhookverify.redis_store",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'webhookverify' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "AccessDisabled",
    "AmbiguousMatch",
    "BodyOverLimit",
    "BodyTooLarge",
    "CavageSignatureVerifier",
    "ConfigurationError",
    "Delivery",
    "DeliveryDeclined",
    "DuplicateHeader",
    "EventBus",
    "Handler",
    "HandlerRegistry",
    "Headers",
    "HmacVerifier",
    "HttpMessageSignatureVerifier",
    "InvalidRequest",
    "KeyUnavailable",
    "KeyValueHeader",
    "MalformedBody",
    "MalformedHeader",
    "MalformedSignature",
    "MalformedTimestamp",
    "Match",
    "MemoryReplayStore",
    "MessageBuilder",
    "MessageTemplate",
    "MissingDelivery",
    "MissingHeader",
    "NoHandlerMatched",
    "NoValidKey",
    "Outcome",
    "PayloadError",
    "PublicKeyVerifier",
    "Receiver",
    "RedisReplayStore",
    "Rejection",
    "ReplayMode",
    "ReplayStoreUnavailable",
    "Secret",
    "SignatureMismatch",
    "StandardWebhooksVerifier",
    "TimestampInFuture",
    "TimestampOutsideTolerance",
    "TimestampTooOld",
    "TokenVerifier",
    "UnsupportedSignatureVersion",
    "Verification",
    "VerificationError",
    "Verifier",
    "WebhookError",
    "WebhookRequest",
    "__version__",
    "parse_secret",
]
