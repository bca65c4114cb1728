"""draft-cavage HTTP Signatures, as ActivityPub servers (Mastodon) send them.

    Signature: keyId="https://a.example/users/alice#main-key",algorithm="rsa-sha256",
               headers="(request-target) host date digest",signature="BASE64"

The predecessor of RFC 9421 (draft-cavage-http-signatures-12), still what
the fediverse signs its inbox deliveries with. The rules are Mastodon's
(``app/lib/signed_request.rb``): ``keyId`` and ``signature`` required; the
algorithm label ``rsa-sha256`` or ``hs2019`` (absent means ``hs2019``);
``(created)``/``(expires)`` only with ``hs2019``; ``(request-target)``,
``host`` and ``date`` covered, and ``digest`` on a POST or with a body,
checked against the body (SHA-256); the ``Date`` (or ``created``) within an
hour of this clock.

What the message never chooses: the cryptographic operation, which is the
configured key's (an RSA key verifies RSASSA-PKCS1-v1_5 with SHA-256, an
Ed25519 key Ed25519; a label that does not fit the key is refused), and the
key itself, found by ``keyId`` in the configuration or through a resolver.
"""

from __future__ import annotations

import binascii
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from .._checks import check_flag, check_list, check_mapping
from ..errors import (
    ConfigurationError,
    MalformedHeader,
    MalformedTimestamp,
    NoValidKey,
    SignatureMismatch,
    VerificationError,
)
from ..request import WebhookRequest
from ..types import ReplayMode, Verification
from ..verifiers._base import check_freshness, check_tolerance, replay_window, single_header
from ._base import AlgorithmMismatch, SignatureExpired, UncoveredComponent, UnknownKeyId
from ._cavage_keys import (
    CavageKey,
    KeyResolutionFailed,
    UnusableKey,
    load_key,
    load_signer,
    pick_signer,
    resolve,
    resolved,
)
from ._cavage_parse import (
    CavageParams,
    check_digest,
    digest_header,
    http_date,
    parse_http_date,
    parse_signature,
    signing_string,
)

__all__ = [
    "CAVAGE_ALGORITHMS",
    "CAVAGE_FUTURE_TOLERANCE",
    "CAVAGE_REQUIRED_HEADERS",
    "CAVAGE_TOLERANCE",
    "CavageSignatureVerifier",
    "KeyResolutionFailed",
    "KeyResolver",
    "UnusableKey",
]

KeyResolver = Callable[[str], Any]
"""``keyId -> key | None``: the public key a ``keyId`` names, or ``None`` if unknown."""

# The labels draft-cavage-12 §2.1.3 and Mastodon accept. hs2019 means "the
# key's own algorithm"; rsa-sha256 is the deprecated label Mastodon still sends.
CAVAGE_ALGORITHMS: Final = ("rsa-sha256", "hs2019")
# Mastodon's verify_signature_strength!: the request line, the host and the
# date; "digest" is added for a POST or a body (below).
CAVAGE_REQUIRED_HEADERS: Final = ("(request-target)", "host", "date")
# Mastodon (SignedRequest): a signature is valid five minutes after its date,
# judged with a one-hour clock-skew margin (CLOCK_SKEW_MARGIN) both ways.
CAVAGE_TOLERANCE: Final = 300.0 + 3600.0
CAVAGE_FUTURE_TOLERANCE: Final = 3600.0
_OWNER: Final = "CavageSignatureVerifier"
_SIGN_HEADERS: Final = "(request-target) host date digest"


class CavageSignatureVerifier:
    """Verify draft-cavage ``Signature`` headers (ActivityPub, Mastodon).

    Args:
        keys: ``{keyId: public key}`` (PEM, DER, a ``cryptography`` key, or a
            :class:`~webhookverify.Secret` holding one, for a validity
            window), or a resolver ``keyId -> key | None``: any callable,
            such as a key source that fetches actor documents. A resolver
            returns the key (same forms) or ``None`` for an unknown id; a
            :class:`~webhookverify.WebhookError` it raises (a key source
            that cannot reach the sender) passes through unchanged, anything
            else becomes ``KeyResolutionFailed``. It is called once per
            request: it should cache. Or a key source
            (:class:`~webhookverify.keyfetch.ActorKeys`, anything with
            ``key(keyId)`` and ``await akey(keyId)``): :meth:`verify` calls
            its ``key``, :meth:`averify` awaits its ``akey``.
        algorithms: the labels accepted (default ``rsa-sha256``, ``hs2019``).
        required_headers: names every signature covers (default
            ``(request-target) host date``); ``digest`` is required too when
            the request is a POST or has a body, unless ``require_digest=False``.
        tolerance: how far the ``Date`` (or ``created``) may be behind this
            clock (Mastodon's: 3900 s).
        future_tolerance: how far it may be ahead of this clock (Mastodon's:
            3600 s).
        allow_weak_rsa: accept RSA keys under 2048 bits (the draft's own
            1024-bit test key; never for the fediverse).
        signing_keys: ``{keyId: private key}``, for :meth:`sign` (tests).

    Raises:
        ConfigurationError: no keys, an unusable key, a bad setting.
    """

    __slots__ = (
        "_keys",
        "_resolver",
        "_signers",
        "_source",
        "algorithms",
        "allow_weak_rsa",
        "future_tolerance",
        "require_digest",
        "required",
        "tolerance",
    )

    algorithms: tuple[str, ...]
    required: tuple[str, ...]
    require_digest: bool
    tolerance: float | None
    future_tolerance: float | None
    allow_weak_rsa: bool
    _keys: dict[str, CavageKey]
    _resolver: KeyResolver | None
    _signers: dict[str, Any]
    _source: Any

    def __init__(
        self,
        *,
        keys: Mapping[str, Any] | KeyResolver,
        algorithms: Iterable[str] = CAVAGE_ALGORITHMS,
        required_headers: Iterable[str] = CAVAGE_REQUIRED_HEADERS,
        require_digest: bool = True,
        tolerance: float | None = CAVAGE_TOLERANCE,
        future_tolerance: float | None = CAVAGE_FUTURE_TOLERANCE,
        allow_weak_rsa: bool = False,
        signing_keys: Mapping[str, Any] | None = None,
    ) -> None:
        labels = check_list(algorithms, "algorithms", _OWNER, one=str)
        if not labels or any(label not in CAVAGE_ALGORITHMS for label in labels):
            raise ConfigurationError(
                f"{_OWNER}(algorithms=...) takes labels among {', '.join(CAVAGE_ALGORITHMS)}"
            )
        names = check_list(required_headers, "required_headers", _OWNER, of=str)
        required = tuple(name.lower() for name in names)
        if "date" not in required and "(created)" not in required and tolerance is not None:
            raise ConfigurationError(
                f"{_OWNER}(required_headers=...) needs 'date' or '(created)' covered, "
                "or tolerance=None to accept signatures that carry no time"
            )
        loaded: dict[str, CavageKey] = {}
        resolver: KeyResolver | None = None
        source: Any = getattr(keys, "akey", None) and keys  # a key source: key(ref), akey(ref)
        if source:
            resolver = source.key
        elif isinstance(keys, Mapping):
            if not keys:
                raise ConfigurationError(f"{_OWNER} needs keys={{keyId: public key}} or a resolver")
            for key_id, material in keys.items():
                loaded[key_id] = load_key(
                    material, allow_weak_rsa, f"{_OWNER}(keys[{key_id!r}])", config=True
                )
        elif callable(keys):
            resolver = keys
        else:
            raise ConfigurationError(f"{_OWNER}(keys=...) is a mapping or a callable resolver")
        signers = {
            key_id: load_signer(private, f"{_OWNER}(signing_keys[{key_id!r}])")
            for key_id, private in check_mapping(signing_keys or {}, "signing_keys", _OWNER).items()
        }
        set_ = object.__setattr__
        set_(self, "algorithms", labels)
        set_(self, "required", required)
        set_(self, "require_digest", check_flag(require_digest, "require_digest", _OWNER))
        set_(self, "allow_weak_rsa", check_flag(allow_weak_rsa, "allow_weak_rsa", _OWNER))
        set_(self, "tolerance", check_tolerance(tolerance, "tolerance", _OWNER))
        set_(
            self,
            "future_tolerance",
            check_tolerance(future_tolerance, "future_tolerance", _OWNER),
        )
        set_(self, "_keys", loaded)
        set_(self, "_resolver", resolver)
        set_(self, "_signers", signers)
        set_(self, "_source", source or None)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    @property
    def required_headers(self) -> tuple[str, ...]:
        """``Signature``, and ``Date`` when the configuration requires it covered."""
        return ("Signature", "Date") if "date" in self.required else ("Signature",)

    @property
    def replay_default(self) -> ReplayMode:
        return "content"  # no delivery id is signed: the signed string and the body

    @property
    def replay_window(self) -> float | None:
        return replay_window(self.tolerance, self.future_tolerance)

    # -- verification --------------------------------------------------------------

    def _key(self, key_id: str, now: float, material: object = None) -> CavageKey:
        """The key ``key_id`` names: configured, from the resolver, or ``material``
        (what a key source's ``akey`` gave)."""
        if self._resolver is None:
            entry = self._keys.get(key_id)
        else:
            if material is None:
                material = resolve(self._resolver, key_id)
            where = f"{_OWNER}(keys=resolver) for {key_id!r}"
            entry = resolved(material, now, self.allow_weak_rsa, where)
        if entry is None:
            raise UnknownKeyId("the signature's keyId is not a known key (keys=...)")
        if not entry.valid_at(now):
            raise NoValidKey()
        return entry

    def _check_covered(self, request: WebhookRequest, params: CavageParams) -> None:
        covered = set(params.covered)
        needed = list(self.required)
        if self.require_digest and (request.body or request.method.upper() == "POST"):
            needed.append("digest")
        missing = [name for name in needed if name not in covered]
        if missing:
            raise UncoveredComponent(
                f"the signature does not cover {', '.join(missing)} (required_headers=...)",
                header="Signature",
            )
        for name, value in (("(created)", params.created), ("(expires)", params.expires)):
            if value is not None and name not in covered:
                raise UncoveredComponent(
                    f"the Signature header states {name[1:-1]} but does not sign it",
                    header="Signature",
                )
            if name in covered and params.algorithm == "rsa-sha256":
                # Mastodon: "Invalid pseudo-header (created) for rsa-sha256"
                raise MalformedHeader(f"{name} is covered, but only hs2019 has it")

    def _check_times(
        self, request: WebhookRequest, params: CavageParams, now: float
    ) -> float | None:
        moments: list[float] = []
        if "date" in params.covered:
            date = parse_http_date(single_header(request, "Date"))
            check_freshness(date, now, self.tolerance, self.future_tolerance, "Date")
            moments.append(date)
        if params.created is not None:
            check_freshness(params.created, now, self.tolerance, self.future_tolerance, "Signature")
            moments.insert(0, float(params.created))
        if params.expires is not None and now > params.expires:
            raise SignatureExpired(header="Signature", timestamp=params.expires, now=now)
        if not moments and self.tolerance is not None:
            raise MalformedTimestamp(
                "the signature covers neither date nor (created); set tolerance=None to accept",
                header="Signature",
            )
        return moments[0] if moments else None

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify the request's ``Signature`` header at ``now`` (default: received_at).

        Returns:
            the :class:`Verification`: ``key_id`` the ``keyId``, ``timestamp``
            ``created`` or the ``Date``, ``scheme`` ``cavage-rsa-sha256`` or
            ``cavage-ed25519`` (the key's operation).

        Raises:
            MissingHeader / DuplicateHeader / MalformedHeader: the header.
            UncoveredComponent: a required name is not covered.
            AlgorithmMismatch: a label not accepted or not the key's.
            UnknownKeyId / NoValidKey / KeyResolutionFailed: the key.
            MalformedTimestamp / TimestampTooOld / TimestampInFuture / SignatureExpired:
                the ``Date``, ``created`` or ``expires``.
            SignatureMismatch / ContentDigestMismatch: the signature, the body.
        """
        moment = request.received_at if now is None else now
        params, stamp = self._read(request, moment)
        return self._finish(request, params, self._key(params.key_id, moment), stamp)

    async def averify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """:meth:`verify` for the event loop: a key source's ``akey`` is awaited,
        so fetching an actor's key never blocks the loop (``Receiver.areceive``
        and the ASGI adapters call this). Other keys are found as by :meth:`verify`.
        """
        if self._source is None:
            return self.verify(request, now)
        moment = request.received_at if now is None else now
        params, stamp = self._read(request, moment)
        material = await self._source.akey(params.key_id)
        return self._finish(request, params, self._key(params.key_id, moment, material), stamp)

    def _read(self, request: WebhookRequest, moment: float) -> tuple[CavageParams, float | None]:
        """The ``Signature`` header, its covered names, its label and its times
        checked (before any key is looked up); the signed time, if any."""
        params = parse_signature(single_header(request, "Signature"))
        self._check_covered(request, params)
        label = params.algorithm or "hs2019"
        if label not in self.algorithms:
            raise AlgorithmMismatch(
                f"the signature's algorithm {label!r} is not accepted (algorithms=...)",
                header="Signature",
            )
        return params, self._check_times(request, params, moment)

    def _finish(
        self, request: WebhookRequest, params: CavageParams, key: CavageKey, stamp: float | None
    ) -> Verification:
        """The rest of the check once the key is in hand."""
        label = params.algorithm or "hs2019"
        if not key.accepts(label):
            raise AlgorithmMismatch(
                f"the signature's algorithm {label!r} does not fit its {key.operation} key",
                header="Signature",
            )
        message = signing_string(request, params)
        if not key.verify(params.signature, message):
            raise SignatureMismatch(header="Signature")
        if "digest" in params.covered:
            check_digest(request)
        return Verification(
            scheme=f"cavage-{key.operation}",
            key_id=params.key_id,
            timestamp=stamp,
            signed=(message, request.body),
        )

    # -- the sender's side ---------------------------------------------------------

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """The ``Host``, ``Date``, ``Digest`` and ``Signature`` headers, as Mastodon sends them.

        Args:
            parts: ``method`` / ``url`` (default ``POST https://example.test/inbox``),
                ``key_id`` (default the last signing key valid at ``now``),
                ``covered`` (the names to sign, default
                ``(request-target) host date digest``), ``algorithm`` (default
                ``rsa-sha256`` for RSA, ``hs2019`` otherwise), ``created`` and
                ``expires`` (unix seconds, with ``hs2019``).

        Raises:
            ConfigurationError: no signing key, or a covered header without a value.
        """
        from urllib.parse import urlsplit

        moment = time.time() if now is None else now
        key_id, signer = pick_signer(self._signers, self._keys, parts.get("key_id"), moment)
        url = parts.get("url", "https://example.test/inbox")
        headers = {"Host": urlsplit(url).netloc, "Date": http_date(moment)}
        covered = tuple(parts.get("covered", _SIGN_HEADERS).split())
        if "digest" in covered:
            headers["Digest"] = digest_header(body)
        label = parts.get("algorithm") or (
            "rsa-sha256" if signer.operation == "rsa-sha256" else "hs2019"
        )
        created = int(parts["created"]) if "created" in parts else None
        expires = int(parts["expires"]) if "expires" in parts else None
        params = CavageParams(key_id, label, covered, b"", created, expires)
        request = WebhookRequest(
            method=parts.get("method", "POST"), url=url, headers=headers, body=body
        )
        try:
            message = signing_string(request, params)
        except VerificationError as error:
            raise ConfigurationError(f"{_OWNER}.sign(): {error}") from None
        signature = binascii.b2a_base64(signer.sign(message), newline=False).decode("ascii")
        fields = [f'keyId="{key_id}"', f'algorithm="{label}"']
        fields += [f"created={created}"] if created is not None else []
        fields += [f"expires={expires}"] if expires is not None else []
        fields += [f'headers="{" ".join(covered)}"', f'signature="{signature}"']
        headers["Signature"] = ",".join(fields)
        return headers

    def __repr__(self) -> str:
        keys = "<resolver>" if self._resolver is not None else list(self._keys)
        return (
            f"CavageSignatureVerifier(keys={keys!r}, algorithms={list(self.algorithms)!r}, "
            f"required_headers={list(self.required)!r}, tolerance={self.tolerance!r})"
        )
