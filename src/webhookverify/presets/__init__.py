"""One small factory per provider: ``presets.github(secret=...)`` and so on.

Each preset returns a verifier configured the way its provider signs, with
the provider's documented tolerance. Each docstring says where the secret is
found in the provider's dashboard, what is signed, and what the provider does
differently from the rest.
"""

from . import _more, _popular, _standard
from ._more import *  # noqa: F403
from ._popular import *  # noqa: F403
from ._standard import *  # noqa: F403

__all__ = [*_popular.__all__, *_standard.__all__, *_more.__all__, "PRESETS"]

# Answers to providers' one-time endpoint checks: helpers, not verifiers.
_HANDSHAKES = frozenset({"dropbox_challenge", "okta_verification", "zoom_url_validation"})

PRESETS: tuple[str, ...] = tuple(
    sorted(name for name in __all__ if name.islower() and name not in _HANDSHAKES)
)
"""The names of the preset factories: what ``preset = "..."`` in a configuration
file and ``webhookverify sign --preset`` accept."""
