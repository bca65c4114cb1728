"""HTTP Message Signatures (RFC 9421), with keys given in the configuration.

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
body whenever it is covered.
"""

from __future__ import annotations

import binascii
import time
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import (
    ConfigurationError,
    MalformedHeader,
    MalformedSignature,
    MalformedTimestamp,
    NoValidKey,
    SignatureMismatch,
    UnsupportedSignatureVersion,
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
    content_digest,
    read_dictionary,
    signature_base,
)
from ._keys import (
    ALGORITHMS,
    HttpSigAlgorithm,
    KeyTable,
    SigningKey,
    load_table,
    pick_signer,
)
from ._sfv import InnerList, Item, serialize_inner_list

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
# What sign() covers unless told: the request line and the body.
_SIGN_COMPONENTS = ("@method", "@target-uri", "content-digest")
# RFC 9421 §2.3: the parameters it defines, with the type each must have.
_INT_PARAMS = ("created", "expires")
_STR_PARAMS = ("keyid", "alg", "nonce", "tag")


class HttpMessageSignatureVerifier:
    """Verify RFC 9421 HTTP Message Signatures with keys from the configuration.

    Args:
        keys: ``{keyid: (algorithm, key)}``. The algorithm is one of
            :data:`ALGORITHMS` and is pinned: a signature's ``alg`` that
            differs is refused. The key is the HMAC secret (bytes, or a
            :class:`~webhookverify.Secret` for a validity window) or the public
            key (PEM, DER, a ``cryptography`` key, or a ``Secret`` holding one).
        required_components: component names every accepted signature covers,
            such as ``"@method"``, ``"@target-uri"``, ``"content-digest"``
            (default: ``("content-digest",)``, so the body is signed).
        tolerance: how old ``created`` may be, in seconds (default 300);
            ``None`` accepts any age and a signature without ``created``.
        future_tolerance: how far ahead ``created`` may be (default: ``tolerance``).
        required_tag: only signatures with this ``tag`` parameter are considered.
        label: only the signature under this label is considered (default: any).
        signing_keys: ``{keyid: private key}``, for :meth:`sign` only (tests,
            senders); HMAC keys sign without one.

    Raises:
        ConfigurationError: for any inconsistent setting or unusable key.
    """

    __slots__ = (
        "_signers",
        "_table",
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
    _table: KeyTable
    _signers: dict[str, SigningKey]

    def __init__(
        self,
        *,
        keys: Mapping[str, tuple[str, Any]],
        required_components: Iterable[str] = DEFAULT_REQUIRED_COMPONENTS,
        tolerance: float | None = DEFAULT_TOLERANCE,
        future_tolerance: float | None = None,
        required_tag: str | None = None,
        label: str | None = None,
        signing_keys: Mapping[str, Any] | None = None,
    ) -> None:
        owner = "HttpMessageSignatureVerifier"
        if isinstance(required_components, str):
            raise ConfigurationError(f"{owner}(required_components=...) takes a list of names")
        required = tuple(required_components)
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
        table, signers = load_table(keys, signing_keys, owner)
        past = check_tolerance(tolerance, "tolerance", owner)
        ahead = past if future_tolerance is None else future_tolerance
        set_ = object.__setattr__
        set_(self, "_table", table)
        set_(self, "_signers", signers)
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
        """The configured key ids, in configuration order."""
        return tuple(self._table)

    # -- verification --------------------------------------------------------------

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify the request's HTTP Message Signature at ``now`` (default: received_at).

        Every signature under a label in both fields (only ``label`` when set,
        only those with ``required_tag`` when set) is tried in order; the first
        that passes every check is the result.

        Raises:
            VerificationError: no signature passes; the first one's refusal.
        """
        moment = request.received_at if now is None else now
        inputs = read_dictionary(request, "Signature-Input")
        signatures = read_dictionary(request, "Signature")
        first: VerificationError | None = None
        tried = 0
        for label, covered in inputs.items():
            if self.label is not None and label != self.label:
                continue
            if not isinstance(covered, InnerList):
                raise MalformedHeader(
                    f"Signature-Input's {label} is not a list of components",
                    header="Signature-Input",
                )
            if self.required_tag is not None and dict(covered.params).get("tag") != (
                self.required_tag
            ):
                continue
            tried += 1
            try:
                return self._verify_one(request, label, covered, signatures.get(label), moment)
            except VerificationError as error:
                first = first or error
        if first is not None:
            raise first
        wanted = [f"label {self.label!r}"] if self.label else []
        wanted += [f"tag {self.required_tag!r}"] if self.required_tag else []
        raise UnsupportedSignatureVersion(
            f"Signature-Input has no signature with {' and '.join(wanted)} "
            "(check label= and required_tag=)",
            header="Signature-Input",
        )

    def _check_params(self, covered: InnerList) -> dict[str, Any]:
        params = dict(covered.params)
        for name in _INT_PARAMS:
            value = params.get(name, 0)
            if type(value) is not int or value < 0:
                raise MalformedTimestamp(
                    f"the signature's {name} parameter is not a whole number of seconds",
                    header="Signature-Input",
                )
        for name in _STR_PARAMS:
            if name in params and (type(params[name]) is not str or not params[name]):
                raise MalformedHeader(
                    f"the signature's {name} parameter is not a string", header="Signature-Input"
                )
        if "keyid" not in params:
            raise MalformedHeader(
                "the signature has no keyid parameter; this verifier finds keys by keyid",
                header="Signature-Input",
            )
        return params

    def _verify_one(
        self,
        request: WebhookRequest,
        label: str,
        covered: InnerList,
        signature: Item | InnerList | None,
        now: float,
    ) -> Verification:
        params = self._check_params(covered)
        names = {str(item.value) for item in covered.items if isinstance(item.value, str)}
        missing = [name for name in self.required_components if name not in names]
        if missing:
            raise UncoveredComponent(
                f"the signature {label} does not cover {', '.join(missing)} "
                "(required_components=...)",
                header="Signature-Input",
            )
        key_id: str = params["keyid"]
        entry = self._table.get(key_id)
        if entry is None:
            raise UnknownKeyId(header="Signature-Input")
        if not entry.valid_at(now):
            raise NoValidKey()
        if "alg" in params and params["alg"] != entry.algorithm:
            raise AlgorithmMismatch(header="Signature-Input")
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
        base = signature_base(request, covered)
        if not entry.verify(signature.value, base):
            raise SignatureMismatch(header="Signature")
        if "content-digest" in names:
            check_content_digest(request)
        nonce = params.get("nonce")
        return Verification(
            scheme=entry.algorithm,
            key_id=key_id,
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
        signer_id, signer = pick_signer(self._table, self._signers, parts.get("key_id"), moment)
        text = parts.get("components")
        names = text.split() if text is not None else list(_SIGN_COMPONENTS)
        names += [n for n in self.required_components if n not in names and text is None]
        headers: dict[str, str] = {}
        if "content-digest" in names:
            headers["Content-Digest"] = content_digest(body)
        fields = {"content-digest": headers.get("Content-Digest", "")}
        for key, value in parts.items():
            if key.startswith("field_"):
                fields[key[len("field_") :].replace("_", "-")] = value
        params: list[tuple[str, Any]] = [("created", int(parts.get("created") or moment))]
        if "expires" in parts:
            params.append(("expires", int(parts["expires"])))
        params.append(("keyid", signer_id))
        if parts.get("alg") == "1":
            params.append(("alg", signer.algorithm))
        params += [(name, parts[name]) for name in ("nonce", "tag") if name in parts]
        covered = InnerList(tuple(Item(name) for name in names), tuple(params))
        request = WebhookRequest(
            method=parts.get("method", "POST"),
            url=parts.get("url", "https://example.test/"),
            headers={k: v for k, v in fields.items() if v},
            body=body,
        )
        try:
            base = signature_base(request, covered)
        except VerificationError as error:
            raise ConfigurationError(f"HttpMessageSignatureVerifier.sign(): {error}") from None
        label = parts.get("label", "sig1")
        raw = signer.sign(base)
        signature = binascii.b2a_base64(raw, newline=False).decode("ascii")
        headers["Signature-Input"] = f"{label}={serialize_inner_list(covered)}"
        headers["Signature"] = f"{label}=:{signature}:"
        return headers

    def __repr__(self) -> str:
        keys = {k: e.algorithm for k, e in self._table.items()}
        return (
            f"HttpMessageSignatureVerifier(keys={keys!r}, "
            f"required_components={list(self.required_components)!r}, "
            f"tolerance={self.tolerance!r}, required_tag={self.required_tag!r})"
        )
