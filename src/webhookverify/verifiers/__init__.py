"""Verifiers: one small class per signing strategy."""

from ._base import (
    DEFAULT_TOLERANCE,
    MessageBuilder,
    MessageTemplate,
    Verification,
    Verifier,
    constant_time_equal,
)
from .hmac import HmacVerifier, KeyValueHeader
from .token import TokenVerifier

__all__ = [
    "DEFAULT_TOLERANCE",
    "HmacVerifier",
    "KeyValueHeader",
    "MessageBuilder",
    "MessageTemplate",
    "TokenVerifier",
    "Verification",
    "Verifier",
    "constant_time_equal",
]
