"""HTTP Message Signatures (RFC 9421): :class:`HttpMessageSignatureVerifier`;
and their predecessor, draft-cavage (ActivityPub): :class:`CavageSignatureVerifier`.

A verifier of its own family, with its own parts: the structured-field
parser (RFC 8941, :mod:`._sfv`), the signature base (:mod:`._base`), the
configured keys (:mod:`._keys`) and the public-key algorithms, loaded only
when a key needs them (:mod:`._crypto`). The draft-cavage verifier
(:mod:`.cavage`) has its own parser (:mod:`._cavage_parse`) and keys
(:mod:`._cavage_keys`).
"""

from .cavage import (
    CavageSignatureVerifier,
    KeyResolutionFailed,
    KeyResolver,
    UnusableKey,
)
from .verifier import (
    ALGORITHMS,
    DEFAULT_REQUIRED_COMPONENTS,
    AlgorithmMismatch,
    ContentDigestMismatch,
    HttpMessageSignatureVerifier,
    HttpSigAlgorithm,
    MissingComponent,
    SignatureExpired,
    UncoveredComponent,
    UnknownKeyId,
)

__all__ = [
    "ALGORITHMS",
    "DEFAULT_REQUIRED_COMPONENTS",
    "AlgorithmMismatch",
    "CavageSignatureVerifier",
    "ContentDigestMismatch",
    "HttpMessageSignatureVerifier",
    "HttpSigAlgorithm",
    "KeyResolutionFailed",
    "KeyResolver",
    "MissingComponent",
    "SignatureExpired",
    "UncoveredComponent",
    "UnknownKeyId",
    "UnusableKey",
]
