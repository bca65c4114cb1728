"""HTTP Message Signatures (RFC 9421): :class:`HttpMessageSignatureVerifier`.

A verifier of its own family, with its own parts: the structured-field
parser (RFC 8941, :mod:`._sfv`), the signature base (:mod:`._base`), the
configured keys (:mod:`._keys`) and the public-key algorithms, loaded only
when a key needs them (:mod:`._crypto`).
"""

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
    "ContentDigestMismatch",
    "HttpMessageSignatureVerifier",
    "HttpSigAlgorithm",
    "MissingComponent",
    "SignatureExpired",
    "UncoveredComponent",
    "UnknownKeyId",
]
