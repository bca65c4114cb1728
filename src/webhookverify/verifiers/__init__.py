"""Verifiers: one small class per signing strategy."""

from ..types import ReplayMode, Verification, Verifier
from ._base import DEFAULT_TOLERANCE, constant_time_equal
from ._bodyid import MAX_ID_LENGTH
from ._template import MessageBuilder, MessageTemplate
from .hmac import HmacVerifier, KeyValueHeader
from .token import TokenVerifier

__all__ = [
    "DEFAULT_TOLERANCE",
    "MAX_ID_LENGTH",
    "HmacVerifier",
    "KeyValueHeader",
    "MessageBuilder",
    "MessageTemplate",
    "ReplayMode",
    "TokenVerifier",
    "Verification",
    "Verifier",
    "constant_time_equal",
]
