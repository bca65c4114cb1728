"""What :class:`HmacVerifier` and :class:`PublicKeyVerifier` share: everything
but the cryptography.

Both check a signature carried in one header (perhaps a list of them) over a
signed message built from the request, with an optional signed timestamp and
delivery id read from their own headers, against keys listed oldest first
(see :mod:`._keyring`). Only two steps differ: how a decoded candidate is
checked against a key, and how a message is signed. :class:`SignatureScheme`
holds the rest once: the configuration checks, what the registry reads,
reading a request, decoding candidates, and building what a sender sends.

This module never imports ``cryptography``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from typing import ClassVar, Generic, Required, TypedDict, TypeVar

from ..errors import (
    ConfigurationError,
    MalformedHeader,
    MalformedSignature,
    SignatureMismatch,
    UnsupportedSignatureVersion,
)
from ..request import WebhookRequest
from ._base import (
    MAX_SIGNATURES,
    Encoding,
    MessageBuilder,
    MessageTemplate,
    ReplayMode,
    TimestampFormat,
    Verification,
    check_encoding,
    check_freshness,
    check_tolerance,
    decode_signature,
    encode_signature,
    format_timestamp,
    parse_timestamp,
    single_header,
)
from ._keyring import KeyEntry, has_windows, valid_keys

__all__ = ["SchemeOptions", "SignatureScheme", "split_signatures"]

K = TypeVar("K")


class SchemeOptions(TypedDict, total=False):
    """The options of :class:`HmacVerifier` and :class:`PublicKeyVerifier` that
    say where a signed message and its signatures are read from.

    They mean the same for both, so a verifier checking one message with both
    (Standard Webhooks ``v1`` and ``v1a``) spells them once and passes
    ``**options`` to each, adding what tells them apart (``prefix=``,
    ``scheme=``, the keys).
    """

    header: Required[str]
    encoding: Encoding
    delimiter: str | None
    template: str | MessageBuilder
    timestamp_header: str | None
    id_header: str | None
    timestamp_format: TimestampFormat
    tolerance: float | None
    future_tolerance: float | None


def split_signatures(raw: str, header: str, delimiter: str | None) -> Sequence[str]:
    """Split a signature header into its candidates, each stripped of spaces.

    Raises:
        MalformedHeader: more than :data:`MAX_SIGNATURES` candidates, refused
            before any of them is decoded or hashed.
    """
    if delimiter is None:
        return (raw,)
    candidates = [text.strip() for text in raw.split(delimiter)]
    if len(candidates) > MAX_SIGNATURES:
        raise MalformedHeader(f"the {header} header has too many signatures", header=header)
    return candidates


class SignatureScheme(Generic[K]):
    """The base of a verifier that differs from the others only in its cryptography.

    A subclass calls :meth:`_configure` and :meth:`_set_keys` from its
    ``__init__`` and provides :meth:`_match` and :meth:`_signer`. A verifier
    holding several schemes configured with the same :class:`SchemeOptions`
    may call :meth:`_read` once and :meth:`_match` on each.
    """

    __slots__ = (
        "_body_only",
        "_has_windows",
        "_keys",
        "_lengths",
        "_message",
        "_plain",
        "_plain_header",
        "_signs_id",
        "_timestamp_source",
        "algorithm",
        "delimiter",
        "encoding",
        "future_tolerance",
        "header",
        "id_header",
        "prefix",
        "scheme",
        "timestamp_format",
        "timestamp_header",
        "tolerance",
    )

    # what a candidate is called in MalformedSignature: "digest", "signature"
    _kind: ClassVar[str] = "signature"

    algorithm: str
    header: str
    encoding: Encoding
    prefix: str
    delimiter: str | None
    timestamp_header: str | None
    id_header: str | None
    timestamp_format: TimestampFormat
    tolerance: float | None
    future_tolerance: float | None
    scheme: str
    _message: MessageBuilder
    _timestamp_source: str | None
    _signs_id: bool
    _body_only: bool
    _plain: bool
    _plain_header: bool
    _keys: tuple[KeyEntry[K], ...]
    _has_windows: bool
    _lengths: frozenset[int]

    def _configure(
        self,
        owner: str,
        *,
        header: str,
        encoding: Encoding,
        prefix: str,
        delimiter: str | None,
        template: str | MessageBuilder,
        timestamp_header: str | None,
        id_header: str | None,
        timestamp_format: TimestampFormat,
        tolerance: float | None,
        future_tolerance: float | None,
        scheme: str,
        timestamp_source: str | None,
        plain_header: bool = True,
    ) -> None:
        """Check and set the settings every scheme has (see :class:`SchemeOptions`).

        Args:
            owner: the class name, for error messages.
            timestamp_source: where the signed timestamp is read: the
                ``timestamp_header``, the signature header itself, or ``None``.
            plain_header: the header value is the signature list itself;
                ``False``: the subclass parses it (:meth:`_parse_header`).

        Raises:
            ConfigurationError: naming the setting to check.
        """
        if not isinstance(header, str) or not header:
            raise ConfigurationError(f"{owner}(header=...) must name the signature header")
        if not isinstance(prefix, str):
            raise ConfigurationError(f"{owner}(prefix=...) must be a str")
        if delimiter is not None and (not isinstance(delimiter, str) or not delimiter):
            raise ConfigurationError(f"{owner}(delimiter=...) must be a non-empty str or None")
        if timestamp_format not in ("unix", "unix_ms", "rfc3339"):
            raise ConfigurationError(
                f"{owner}(timestamp_format=...) must be 'unix', 'unix_ms' or 'rfc3339'"
            )
        message = MessageTemplate(template) if isinstance(template, str) else template
        _check_message(message, timestamp_source, id_header, owner)
        tolerance = check_tolerance(tolerance, "tolerance", owner)
        future = check_tolerance(future_tolerance, "future_tolerance", owner)
        body_only = isinstance(message, MessageTemplate) and message.source == "{body}"
        plain = body_only and plain_header and delimiter is None
        set_ = object.__setattr__
        set_(self, "header", header)
        set_(self, "encoding", check_encoding(encoding, owner))
        set_(self, "prefix", prefix)
        set_(self, "delimiter", delimiter)
        set_(self, "timestamp_header", timestamp_header)
        set_(self, "id_header", id_header)
        set_(self, "timestamp_format", timestamp_format)
        set_(self, "tolerance", tolerance)
        set_(self, "future_tolerance", tolerance if future is None else future)
        set_(self, "scheme", scheme)
        set_(self, "_message", message)
        set_(self, "_timestamp_source", timestamp_source)
        set_(self, "_signs_id", "id" in message.signs)
        set_(self, "_body_only", body_only)
        set_(self, "_plain_header", plain_header)
        set_(self, "_plain", plain and timestamp_source is None and id_header is None)

    def _set_keys(self, keys: Sequence[KeyEntry[K]], lengths: frozenset[int]) -> None:
        """Set the keys, oldest first, and the decoded lengths their signatures have."""
        object.__setattr__(self, "_keys", tuple(keys))
        object.__setattr__(self, "_has_windows", has_windows(keys))
        object.__setattr__(self, "_lengths", lengths)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; build a new one")

    # -- what the registry and the receiver read -----------------------------------

    @property
    def required_headers(self) -> tuple[str, ...]:
        """The headers a request must carry: signature, timestamp, id, template headers."""
        names = [self.header]
        for extra in (self.timestamp_header, self.id_header):
            if extra is not None and extra not in names:
                names.append(extra)
        names.extend(h for h in getattr(self._message, "headers", ()) if h not in names)
        return tuple(names)

    @property
    def replay_default(self) -> ReplayMode:
        """``id`` when the message signs a delivery id, else ``content``."""
        return "id" if self._signs_id else "content"

    @property
    def replay_window(self) -> float | None:
        """Seconds a replayed delivery could still pass the timestamp check, if signed."""
        if self._timestamp_source is None or self.tolerance is None:
            return None
        return self.tolerance + (self.future_tolerance or 0.0)

    # -- verification --------------------------------------------------------------

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify ``request``; return what was proved or raise a ``VerificationError``.

        Args:
            request: the request as received.
            now: unix seconds to judge the timestamp and the keys' validity
                windows by (default: when the request was received).

        Returns:
            The :class:`Verification`: scheme, matching key id, signed
            timestamp and delivery id (when the message signs them).

        Raises:
            MissingHeader, DuplicateHeader, MalformedHeader: a header is absent,
                repeated or empty, or lists too many signatures.
                MalformedTimestamp, TimestampTooOld, TimestampInFuture: the
                signed timestamp. UnsupportedSignatureVersion: no signature
                carries ``prefix``. MalformedSignature: none decodes to a
                plausible one. NoValidKey: no key is valid at ``now``.
                SignatureMismatch: no key verifies any signature.
        """
        if now is None:
            now = request.received_at
        if self._plain:
            # One signature over the body alone, nothing else signed: the common case.
            parts: tuple[bytes, ...] = (request.body,)
            key_id = self._match(now, (single_header(request, self.header),), parts)
            return Verification(self.scheme, key_id, None, None, parts)
        candidates, parts, timestamp, delivery_id = self._read(request, now)
        key_id = self._match(now, candidates, parts)
        return Verification(self.scheme, key_id, timestamp, delivery_id, parts)

    def _read(
        self, request: WebhookRequest, now: float
    ) -> tuple[Sequence[str], tuple[bytes, ...], float | None, str | None]:
        """Read what the signature covers, before any key is used.

        Returns:
            The candidate signatures (text), the signed message parts, the
            signed timestamp (held to the tolerance) and the signed delivery id.

        Raises:
            The header and timestamp errors of :meth:`verify`.
        """
        values: dict[str, str] = {}
        raw = single_header(request, self.header)
        if not self._plain_header:
            candidates = self._parse_header(raw, values)
        elif self.delimiter is None:
            candidates = (raw,)
        else:
            candidates = split_signatures(raw, self.header, self.delimiter)
        timestamp: float | None = None
        source = self._timestamp_source
        if source is not None:
            if self.timestamp_header is not None:
                values["timestamp"] = single_header(request, self.timestamp_header)
            timestamp = parse_timestamp(values["timestamp"], self.timestamp_format, source)
            check_freshness(timestamp, now, self.tolerance, self.future_tolerance, source)
        if self.id_header is not None:
            values["id"] = single_header(request, self.id_header)
        parts = (request.body,) if self._body_only else tuple(self._message(request, values))
        return candidates, parts, timestamp, values.get("id") if self._signs_id else None

    def _parse_header(self, raw: str, values: dict[str, str]) -> Sequence[str]:
        """The candidates in a signature header that is not a plain list, and the
        signed values it carries (into ``values``); for ``plain_header=False``.
        """
        raise NotImplementedError

    def _match(self, now: float, candidates: Sequence[str], parts: tuple[bytes, ...]) -> str:
        """Return the id of the first key valid at ``now`` that verifies a candidate.

        Raises:
            The signature and key errors of :meth:`verify`.
        """
        raise NotImplementedError

    def _decode(self, candidates: Sequence[str]) -> list[bytes]:
        """Decode the candidates that carry ``prefix``; keep those of a length a key makes.

        A truncated or padded tag is dropped here, before any cryptography.

        Raises:
            MalformedSignature: some candidates carry the prefix, none is plausible.
            UnsupportedSignatureVersion: no candidate carries the prefix.
        """
        prefix = self.prefix
        lengths = self._lengths
        signatures: list[bytes] = []
        malformed = 0
        for text in candidates:
            if prefix:
                if not text.startswith(prefix):
                    continue
                text = text[len(prefix) :]
            try:
                decoded = decode_signature(text, self.encoding, self.header)
            except MalformedSignature:
                malformed += 1
                continue
            if len(decoded) in lengths:
                signatures.append(decoded)
            else:
                malformed += 1
        if signatures:
            return signatures
        if malformed:
            raise MalformedSignature(
                f"the signature in {self.header} is not a valid {self.encoding} "
                f"{self.algorithm} {self._kind} (check encoding= and algorithm=)",
                header=self.header,
            )
        raise UnsupportedSignatureVersion(
            f"the {self.header} header has no signature"
            + (f" starting with {prefix!r} (check prefix=)" if prefix else ""),
            header=self.header,
        )

    def _keys_at(self, now: float) -> tuple[KeyEntry[K], ...]:
        """The keys to verify with at ``now``, oldest first; NoValidKey if none."""
        return valid_keys(self._keys, now) if self._has_windows else self._keys

    def _mismatch(self) -> SignatureMismatch:
        return SignatureMismatch(
            f"the signature in {self.header} does not match", header=self.header
        )

    # -- the sender's side ---------------------------------------------------------

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """Sign ``body`` as the sender would; return the headers to send.

        Args:
            body: the raw body.
            now: unix seconds for the timestamp and the keys' validity windows
                (default: the clock).
            parts: ``timestamp=``, ``id=``, ``method=`` and ``url=`` to use
                instead of the defaults; any other name is sent as a header of
                that name (for templates with ``{header:Name}``).

        Returns:
            The headers to send: the signature, and the timestamp and id
            headers when configured.

        Raises:
            ConfigurationError: nothing to sign with (public keys only).
            NoValidKey: no signing key is valid at ``now``.
        """
        if now is None:
            now = time.time()
        signer = self._signer(now)
        headers: dict[str, str] = {}
        values: dict[str, str] = {}
        if self._timestamp_source is not None:
            values["timestamp"] = parts.pop("timestamp", "") or format_timestamp(
                now, self.timestamp_format
            )
            if self.timestamp_header is not None:
                headers[self.timestamp_header] = values["timestamp"]
        if self.id_header is not None:
            values["id"] = parts.pop("id", "") or f"msg_{uuid.uuid4().hex}"
            headers[self.id_header] = values["id"]
        method = parts.pop("method", "POST")
        url = parts.pop("url", "")
        headers.update(parts)
        request = WebhookRequest(
            method=method, url=url, headers=headers, body=body, received_at=now
        )
        signature = encode_signature(signer(self._message(request, values)), self.encoding)
        headers[self.header] = self._render(self.prefix + signature, values)
        return headers

    def _signer(self, now: float) -> Callable[[Sequence[bytes]], bytes]:
        """What signs a message, given as its parts, at ``now``; raises as :meth:`sign`."""
        raise NotImplementedError

    def _render(self, signature: str, values: dict[str, str]) -> str:
        """The signature header's value (a subclass may add signed values to it)."""
        return signature


def _check_message(
    message: MessageBuilder, timestamp_source: str | None, id_header: str | None, owner: str
) -> None:
    """A timestamp or id is read exactly when the message signs it.

    Raises:
        ConfigurationError: not a message builder; a signed value with no
            header to read it from; a timestamp read but not signed.
    """
    if not callable(message) or not isinstance(getattr(message, "signs", None), frozenset):
        raise ConfigurationError(
            f"{owner}(template=...) must be a template string or a MessageBuilder"
        )
    if "timestamp" in message.signs and timestamp_source is None:
        raise ConfigurationError(
            f"{owner}: the template signs {{timestamp}}; set timestamp_header=..."
        )
    if timestamp_source is not None and "timestamp" not in message.signs:
        raise ConfigurationError(
            f"{owner}: a timestamp is read but the template does not sign it, so it "
            "proves nothing; add {timestamp} to template=..."
        )
    if "id" in message.signs and id_header is None:
        raise ConfigurationError(f"{owner}: the template signs {{id}}; set id_header=...")
