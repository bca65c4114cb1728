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

__all__ = [*_popular.__all__, *_standard.__all__, *_more.__all__]
