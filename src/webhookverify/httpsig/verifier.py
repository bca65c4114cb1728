"""HTTP Message Signatures (RFC 9421), with keys given in the configuration or
published by the sender (a key source).

A sender signs chosen *components* of the request (its method, URL, header
fields such as ``Content-Digest``) and sends the list with its parameters in
``Signature-Input`` and the signature in ``Signature``, both under a label:

    Signature-Input: sig1=("@method" "@target-uri" "content-digest");created=1700000000;keyid="k1"
    Signature: sig1=:BASE64:

What this verifier decides, not the message: which keys exist and the
algorithm of each (a message's ``alg`` must agree, RFC 9421 §7.3.6), which
components a signature must cover (``content-digest`` by default, so the body
is protected: RFC 9421 §7.2.8), how old ``created`` may be, and whether a
``tag`` is required. ``Content-Digest`` (RFC 9530) is checked against the raw
body whenever it is covered. Keys a sender publishes are looked up by
``keyid`` in a key source (:mod:`webhookverify.keyfetch`) only once every
check that needs no key has passed, each held to the configured ``algorithms``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from .._checks import check_list, check_mapping
from ..errors import (
    ConfigurationError,
    MalformedSignature,
    MalformedTimestamp,
    NoValidKey,
    SignatureMismatch,
    VerificationError,
)
from ..request import WebhookRequest
from ..types import ReplayMode, Verification
from ..verifiers._base import DEFAULT_TOLERANCE, check_freshness, check_tolerance, replay_window
from ..verifiers._bodyid import MAX_ID_LENGTH
from ._base import (
    DERIVED,
    AlgorithmMismatch,
    ContentDigestMismatch,
    MissingComponent,
    SignatureExpired,
    UncoveredComponent,
    UnknownKeyId,
    check_content_digest,
    check_params,
    signature_base,
    signatures_to_try,
)
from ._keys import (
    ALGORITHMS,
    HttpSigAlgorithm,
    KeyTable,
    SigningKey,
    TableKey,
    check_algorithms,
    counted_lookup,
    fetched_entry,
    load_source_signers,
    load_table,
    pick_signer,
)
from ._sfv import InnerList, Item
from ._signing import signed_headers

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

# RFC 9421 §7.2.8: a signature that does not cover the body's digest leaves
# the body unprotected; a webhook's meaning is its body.
DEFAULT_REQUIRED_COMPONENTS = ("content-digest",)


class HttpMessageSignatureVerifier:
    """Verify RFC 9421 HTTP Message Signatures with configured or published keys.

    Args:
        keys: ``{keyid: (algorithm, key)}``. The algorithm is one of
            :data:`ALGORITHMS` and is pinned: a signature's ``alg`` that
            differs is refused. The key is the HMAC secret (bytes, or a
            :class:`~webhookverify.Secret` for a validity window) or the public
            key (PEM, DER, a ``cryptography`` key, or a ``Secret`` holding one).
            Or a key source (:class:`~webhookverify.keyfetch.JwksSource`,
            :class:`~webhookverify.keyfetch.KeyById`,
            :class:`~webhookverify.keyfetch.ActorKeys`,
            :class:`~webhookverify.keyfetch.FixedKeys`) that hands out the
            sender's public keys by ``keyid``; then ``algorithms`` is required.
        algorithms: with a key source, the algorithms its keys may sign with
            (public-key ones, such as ``("ed25519",)``). A key is used under
            the one of them its type fits (and the signature's ``alg``, and the
            ``alg`` its publisher states, name); a key that fits none, or
            several with no ``alg`` to choose, is refused.
        required_components: component names every accepted signature covers,
            such as ``"@method"``, ``"@target-uri"``, ``"content-digest"``
            (default: ``("content-digest",)``, so the body is signed).
        tolerance: how old ``created`` may be, in seconds (default 300);
            ``None`` accepts any age and a signature without ``created``.
        future_tolerance: how far ahead ``created`` may be (default: ``tolerance``).
        required_tag: only signatures with this ``tag`` parameter are considered.
        label: only the signature under this label is considered (default: any).
        signing_keys: ``{keyid: private key}``, for :meth:`sign` only (tests,
            senders); HMAC keys sign without one. With a key source, any
            private key whose algorithm ``algorithms`` names.

    Raises:
        ConfigurationError: for any inconsistent setting or unusable key.
    """

    __slots__ = (
        "_signers",
        "_signing_table",
        "_source",
        "_table",
        "algorithms",
        "future_tolerance",
        "label",
        "required_components",
        "required_tag",
        "tolerance",
    )

    required_components: tuple[str, ...]
    tolerance: float | None
    future_tolerance: float | None
    required_tag: str | None
    label: str | None
    algorithms: tuple[HttpSigAlgorithm, ...]  # with a key source; else ()
    _table: KeyTable  # the configured keys (empty with a key source)
    _source: Any  # the key source, or None
    _signers: dict[str, SigningKey]
    _signing_table: KeyTable  # the keys sign() may use, with their algorithms

    def __init__(
        self,
        *,
        keys: Mapping[str, tuple[str, Any]] | Any,
        algorithms: Iterable[str] | None = None,
        required_components: Iterable[str] = DEFAULT_REQUIRED_COMPONENTS,
        tolerance: float | None = DEFAULT_TOLERANCE,
        future_tolerance: float | None = None,
        required_tag: str | None = None,
        label: str | None = None,
        signing_keys: Mapping[str, Any] | None = None,
    ) -> None:
        owner = "HttpMessageSignatureVerifier"
        required = check_list(required_components, "required_components", owner)
        for name in required:
            if not isinstance(name, str) or not name or name != name.lower() or name == "@status":
                raise ConfigurationError(
                    f"{owner}(required_components=...) holds lower-case component names "
                    f"such as '@method' or 'content-digest', not {name!r}"
                )
            if name.startswith("@") and name not in DERIVED:
                raise ConfigurationError(
                    f"{owner}(required_components=...): {name!r} is not a request's derived "
                    f"component; use one of {', '.join(sorted(DERIVED))}"
                )
        for setting, value in (("required_tag", required_tag), ("label", label)):
            if value is not None and (not isinstance(value, str) or not value):
                raise ConfigurationError(f"{owner}({setting}=...) must be a non-empty str or None")
        if signing_keys is not None:
            check_mapping(signing_keys, "signing_keys", owner)
        source = None
        if not isinstance(keys, Mapping) and callable(getattr(keys, "akey", None)):
            source, chosen = keys, check_algorithms(algorithms, owner)
            table: KeyTable = {}
            signing_table, signers = load_source_signers(chosen, signing_keys, owner)
        elif algorithms is not None:
            raise ConfigurationError(
                f"{owner}(algorithms=...) goes with a key source; keys={{keyid: (algorithm, "
                "key)}} already pins each key's algorithm"
            )
        else:
            chosen = ()
            table, signers = load_table(keys, signing_keys, owner)
            signing_table = table
        past = check_tolerance(tolerance, "tolerance", owner)
        ahead = past if future_tolerance is None else future_tolerance
        set_ = object.__setattr__
        set_(self, "_table", table)
        set_(self, "_source", source)
        set_(self, "algorithms", chosen)
        set_(self, "_signers", signers)
        set_(self, "_signing_table", signing_table)
        set_(self, "required_components", required)
        set_(self, "tolerance", past)
        set_(self, "future_tolerance", check_tolerance(ahead, "future_tolerance", owner))
        set_(self, "required_tag", required_tag)
        set_(self, "label", label)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    # -- what the registry and the receiver read -----------------------------------

    @property
    def required_headers(self) -> tuple[str, ...]:
        """``Signature-Input`` and ``Signature``, and ``Content-Digest`` when required."""
        extra = ("Content-Digest",) if "content-digest" in self.required_components else ()
        return ("Signature-Input", "Signature", *extra)

    @property
    def replay_default(self) -> ReplayMode:
        """``id``: a signed ``nonce`` is the delivery id; without one, the content hash."""
        return "id"

    @property
    def replay_window(self) -> float | None:
        """How long a replay could pass the ``created`` check."""
        return replay_window(self.tolerance, self.future_tolerance)

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The configured key ids, in configuration order (none with a key source)."""
        return tuple(self._table)

    # -- verification --------------------------------------------------------------

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify the request's HTTP Message Signature at ``now`` (default: received_at).

        Every signature under a label in both fields (only ``label`` when set,
        only those with ``required_tag`` when set) is tried in order; the first
        that passes every check is the result. A key source's key is fetched
        (blocking) only for a signature that passed every check needing no key.

        Raises:
            VerificationError: no signature passes; the first one's refusal
                (``KeyUnavailable`` when the sender's key could not be fetched).
        """
        moment = request.received_at if now is None else now
        errors: list[VerificationError] = []
        looked_up: set[str] = set()
        for label, covered, signature in signatures_to_try(request, self.label, self.required_tag):
            try:
                params, value = self._precheck(label, covered, signature, moment)
                if self._source is None:
                    entry = self._configured(params, moment)
                else:
                    fetched = self._source.key(counted_lookup(params["keyid"], looked_up))
                    entry = fetched_entry(fetched, self.algorithms, params.get("alg"), moment)
                return self._finish(request, covered, value, params, entry)
            except VerificationError as error:
                errors.append(error)
        raise errors[0]

    async def averify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """:meth:`verify` for the event loop: a key source's key is awaited, never blocking."""
        if self._source is None:
            return self.verify(request, now)
        moment = request.received_at if now is None else now
        errors: list[VerificationError] = []
        looked_up: set[str] = set()
        for label, covered, signature in signatures_to_try(request, self.label, self.required_tag):
            try:
                params, value = self._precheck(label, covered, signature, moment)
                fetched = await self._source.akey(counted_lookup(params["keyid"], looked_up))
                entry = fetched_entry(fetched, self.algorithms, params.get("alg"), moment)
                return self._finish(request, covered, value, params, entry)
            except VerificationError as error:
                errors.append(error)
        raise errors[0]

    def _precheck(
        self, label: str, covered: InnerList, signature: Item | InnerList | None, now: float
    ) -> tuple[dict[str, Any], bytes]:
        """Every check of one signature that needs no key: its parameters, the
        components it covers, its ``alg`` (with a key source), its times, its value.

        Returns:
            Its parameters and the signature's bytes.
        """
        params = check_params(covered)
        names = {str(item.value) for item in covered.items if isinstance(item.value, str)}
        missing = [name for name in self.required_components if name not in names]
        if missing:
            raise UncoveredComponent(
                f"the signature {label} does not cover {', '.join(missing)} "
                "(required_components=...)",
                header="Signature-Input",
            )
        if self._source is not None and "alg" in params and params["alg"] not in self.algorithms:
            raise AlgorithmMismatch(
                "the signature's alg is not one of the configured algorithms (algorithms=...)",
                header="Signature-Input",
            )
        created: int | None = params.get("created")
        if created is None and self.tolerance is not None:
            raise MalformedTimestamp(
                "the signature has no created parameter; set tolerance=None to accept that",
                header="Signature-Input",
            )
        if created is not None:
            check_freshness(created, now, self.tolerance, self.future_tolerance, "Signature-Input")
        expires: int | None = params.get("expires")
        if expires is not None and now > expires:
            raise SignatureExpired(header="Signature-Input", timestamp=expires, now=now)
        if not isinstance(signature, Item) or not isinstance(signature.value, bytes):
            raise MalformedSignature(
                f"the Signature header has no byte sequence under {label}", header="Signature"
            )
        return params, signature.value

    def _configured(self, params: dict[str, Any], now: float) -> TableKey:
        """The configured key the signature names, valid at ``now``, of its ``alg``."""
        entry = self._table.get(params["keyid"])
        if entry is None:
            raise UnknownKeyId(header="Signature-Input")
        if not entry.valid_at(now):
            raise NoValidKey()
        if "alg" in params and params["alg"] != entry.algorithm:
            raise AlgorithmMismatch(header="Signature-Input")
        return entry

    def _finish(
        self,
        request: WebhookRequest,
        covered: InnerList,
        signature: bytes,
        params: dict[str, Any],
        entry: TableKey,
    ) -> Verification:
        """The signature checked with its key, then the body against ``Content-Digest``."""
        base = signature_base(request, covered)
        if not entry.verify(signature, base):
            raise SignatureMismatch(header="Signature")
        if any(item.value == "content-digest" for item in covered.items):
            check_content_digest(request)
        created: int | None = params.get("created")
        nonce = params.get("nonce")
        return Verification(
            scheme=entry.algorithm,
            key_id=params["keyid"],
            timestamp=None if created is None else float(created),
            delivery_id=nonce if nonce is not None and len(nonce) <= MAX_ID_LENGTH else None,
            signed=(base, request.body),
        )

    # -- the sender's side ---------------------------------------------------------

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """The ``Signature-Input``, ``Signature`` (and ``Content-Digest``) headers of a request.

        Args:
            body: the raw body.
            now: the ``created`` time (default: the clock).
            parts: ``method`` and ``url`` (the request line, default ``POST``
                and ``https://example.test/``); ``key_id`` (default: the last
                valid key that can sign); ``label`` (default ``sig1``);
                ``components``: space-separated names to cover (default
                ``@method @target-uri content-digest`` plus the required
                ones); ``field_<name>`` (``field_content_type``): the value of
                a covered header field other than ``content-digest``;
                ``nonce``, ``tag``, ``expires``; ``alg="1"`` to state the algorithm.

        Raises:
            ConfigurationError: no key can sign, or a covered field has no value.
        """
        moment = time.time() if now is None else now
        signer_id, signer = pick_signer(
            self._signing_table, self._signers, parts.get("key_id"), moment
        )
        return signed_headers(signer_id, signer, self.required_components, body, moment, parts)

    def __repr__(self) -> str:
        keys: object = {k: e.algorithm for k, e in self._table.items()}
        if self._source is not None:
            keys = f"{self._source!r}, algorithms={list(self.algorithms)!r}"
        return (
            f"HttpMessageSignatureVerifier(keys={keys!s}, "
            f"required_components={list(self.required_components)!r}, "
            f"tolerance={self.tolerance!r}, required_tag={self.required_tag!r})"
        )
