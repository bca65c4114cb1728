"""What :class:`HmacVerifier` and :class:`PublicKeyVerifier` share: everything
but the cryptography (this module never imports ``cryptography``).

Both check a signature in one header (perhaps a list of them) over a message
built from the request, with an optional signed timestamp and delivery id,
against keys listed oldest first (see :mod:`._keyring`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import InitVar, dataclass, field
from typing import ClassVar, Generic, NoReturn, Required, TypedDict, TypeVar, cast

from ..errors import (
    ConfigurationError,
    MalformedSignature,
    SignatureMismatch,
    UnsupportedSignatureVersion,
)
from ..request import WebhookRequest
from ._base import (
    DEFAULT_TOLERANCE,
    Encoding,
    ReplayMode,
    TimestampFormat,
    Verification,
    check_freshness,
    check_name,
    check_timestamp_width,
    check_tolerance,
    decode_signature,
    encode_signature,
    format_timestamp,
    parse_timestamp,
    replay_window,
    single_header,
)
from ._bodyid import IdField, body_id, check_id_field
from ._headers import KeyValueHeader, split_list
from ._keyring import KeyEntry
from ._template import GuardedBuilder, MessageBuilder, MessageTemplate, check_message

__all__ = ["SchemeOptions", "SignatureScheme"]

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
    id_field: str | tuple[str, ...] | None
    timestamp_format: TimestampFormat
    tolerance: float | None
    future_tolerance: float | None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class SignatureScheme(Generic[K]):
    """The base of a verifier that differs from the others only in its cryptography.

    A subclass's ``__init__`` calls this one with the settings below (an
    unknown keyword is Python's ``TypeError``), then sets ``_keys`` (oldest
    first) and ``_lengths`` (the decoded lengths their signatures have), and
    provides :meth:`_match` (which key verifies a candidate signature) and
    :meth:`_signer`. :meth:`verify` reads the headers, checks the timestamp,
    builds the signed message and asks :meth:`_match`.
    """

    # what a candidate is called in MalformedSignature: "digest", "signature"
    _kind: ClassVar[str] = "signature"
    # the algorithms a configuration may name, as errors list them
    _algorithms: ClassVar[tuple[str, ...]]

    # The settings every scheme has (see SchemeOptions), checked in __post_init__;
    # ``owner`` is how the caller spelled the verifier (``presets.stripe``).
    owner: InitVar[str]
    algorithm: str
    header: str
    scheme: str
    prefix: str = ""
    header_format: KeyValueHeader | None = None
    encoding: Encoding = "hex"
    delimiter: str | None = None
    template: InitVar[str | MessageBuilder] = "{body}"
    timestamp_header: str | None = None
    id_header: str | None = None
    id_field: str | IdField | None = None  # a tuple (a path) once checked
    timestamp_format: TimestampFormat = "unix"
    tolerance: float | None = DEFAULT_TOLERANCE
    future_tolerance: float | None = None
    _message: MessageTemplate | GuardedBuilder = field(init=False)
    _timestamp_source: str | None = field(init=False)  # where the signed timestamp is read
    _keys: tuple[KeyEntry[K], ...] = field(init=False)
    _lengths: frozenset[int] = field(init=False)  # the decoded lengths of these keys' signatures

    def __post_init__(self, owner: str, template: str | MessageBuilder) -> None:
        """Check the settings; normalise ``id_field`` and the tolerances.

        Raises:
            ConfigurationError: naming the setting to check.
        """
        if self.algorithm not in self._algorithms:
            raise ConfigurationError(
                f"{owner}(algorithm={self.algorithm!r}) is not supported; use one of "
                f"{', '.join(self._algorithms)}"
            )
        header, id_header = self.header, self.id_header
        check_name(header, "header", owner, optional=False)
        check_name(self.timestamp_header, "timestamp_header", owner)
        check_name(id_header, "id_header", owner)
        check_name(self.scheme, "scheme", owner, optional=False, field=False)
        if not isinstance(self.prefix, str):
            raise ConfigurationError(f"{owner}(prefix=...) must be a str")
        # How the signature header splits, and where the timestamp is read: its own
        # header, the signature header (a KeyValueHeader entry), or nowhere (None).
        check_name(self.delimiter, "delimiter", owner, field=False)
        layout, timestamp_source = self.header_format, self.timestamp_header
        if layout is not None:
            if not isinstance(layout, KeyValueHeader):
                raise ConfigurationError(f"{owner}(header_format=...) must be a KeyValueHeader")
            if self.delimiter is not None:
                raise ConfigurationError(
                    f"{owner}(delimiter=...) cannot be combined with header_format; the "
                    "KeyValueHeader says how the header splits"
                )
            if layout.timestamp_key is not None and timestamp_source is not None:
                raise ConfigurationError(
                    f"{owner}: the timestamp comes from header_format; drop timestamp_header"
                )
            if layout.timestamp_key is not None:
                timestamp_source = header
        if self.timestamp_format not in ("unix", "unix_ms", "rfc3339"):
            raise ConfigurationError(
                f"{owner}(timestamp_format=...) must be 'unix', 'unix_ms' or 'rfc3339'"
            )
        message = check_message(template, header, timestamp_source, id_header, owner)
        path = check_id_field(self.id_field, owner)
        if path is not None and "id" in message.signs:
            raise ConfigurationError(
                f"{owner}: the message signs the id in {id_header}, and id_field=... names "
                "another; use one of them"
            )
        if self.encoding not in ("hex", "hex_lower", "base64", "base64url"):
            raise ConfigurationError(
                f"{owner}(encoding={self.encoding!r}) is not supported; use 'hex', 'hex_lower', "
                "'base64' or 'base64url'"
            )
        tolerance = check_tolerance(self.tolerance, "tolerance", owner)
        future = check_tolerance(self.future_tolerance, "future_tolerance", owner)
        set_ = object.__setattr__
        set_(self, "id_field", path)
        set_(self, "tolerance", tolerance)
        set_(self, "future_tolerance", tolerance if future is None else future)
        set_(self, "_message", message)
        set_(self, "_timestamp_source", timestamp_source)

    def __reduce__(self) -> NoReturn:
        # copy, deepcopy and pickle: a verifier holds keys (kept out of caches
        # and queues, as Secret is) and is immutable, so there is no need to copy it
        raise TypeError(f"{type(self).__name__} is not copied or pickled; build a new one")

    # -- what the registry and the receiver read -----------------------------------

    @property
    def required_headers(self) -> tuple[str, ...]:
        """The headers a request must carry: signature, timestamp, id, template headers."""
        names = (self.header, self.timestamp_header, self.id_header, *self._message.headers)
        return tuple(dict.fromkeys(name for name in names if name is not None))

    @property
    def signs_id(self) -> bool:
        """True when the signed message covers the delivery id (``{id}``)."""
        return "id" in self._message.signs

    @property
    def replay_default(self) -> ReplayMode:
        """``id`` when the message signs a delivery id or ``id_field`` names one, else
        ``content`` (also the fallback for a body without that id)."""
        return "id" if self.signs_id or self.id_field is not None else "content"

    @property
    def replay_window(self) -> float | None:
        """Seconds a replayed delivery could still pass the timestamp check, if signed."""
        if self._timestamp_source is None:
            return None
        return replay_window(self.tolerance, self.future_tolerance)

    # -- verification --------------------------------------------------------------

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify ``request``; return what was proved or raise a ``VerificationError``.

        Args:
            request: the request as received.
            now: unix seconds to judge the timestamp and the keys' validity
                windows by (default: when the request was received).

        Returns:
            The :class:`Verification`: scheme, matching key id, signed
            timestamp and delivery id (when the message signs them, or, with
            ``id_field``, the verified body holds one).

        Raises:
            MissingHeader, DuplicateHeader, MalformedHeader: a header is absent,
                repeated or empty, or lists too many signatures.
            MalformedTimestamp, TimestampTooOld, TimestampInFuture: the
                signed timestamp.
            MalformedBody: a ``MessageBuilder`` could not build the message.
            UnsupportedSignatureVersion: no signature carries ``prefix``.
            MalformedSignature: none decodes to a plausible one.
            NoValidKey: no key is valid at ``now``.
            SignatureMismatch: no key verifies any signature.
        """
        # In the order errors are reported: the signature header, the
        # timestamp, the id, the message; then the cryptography.
        if now is None:
            now = request.received_at
        value = single_header(request, self.header)
        stamp: str | None = None
        if self.header_format is not None:
            candidates, stamp = self.header_format.parse(value, self.header)
        elif self.delimiter is not None:
            candidates = split_list(value, self.delimiter, self.header)
        else:
            candidates = [value]
        if self.timestamp_header is not None:
            stamp = single_header(request, self.timestamp_header)
        values = {}
        timestamp: float | None = None
        if stamp is not None:
            timestamp = self._checked_timestamp(stamp, now)
            values["timestamp"] = stamp
        ident = None if self.id_header is None else single_header(request, self.id_header)
        if ident is not None:
            values["id"] = ident
        parts = self._message.build(request, values)
        key_id = self._match(candidates, parts, now)
        if self.id_field is not None:
            # The signature has passed: the body is signed material now, and its
            # event id identifies a retry that was signed again (see _bodyid).
            ident = body_id(request.body, cast(IdField, self.id_field))  # a path once checked
        elif ident is not None and "id" not in self._message.signs:
            ident = None  # read but not signed: proves nothing
        return Verification(self.scheme, key_id, timestamp, ident, parts)

    def _checked_timestamp(self, text: str, now: float) -> float:
        """The signed timestamp ``text`` in unix seconds, held to the window and,
        when the message runs it into another part, to the clock's width.

        Raises:
            MalformedTimestamp, TimestampTooOld, TimestampInFuture: as the
                checks of :mod:`._base` raise them, naming the header it came in.
        """
        source = self.timestamp_header or self.header
        timestamp = parse_timestamp(text, self.timestamp_format, source)
        check_freshness(timestamp, now, self.tolerance, self.future_tolerance, source)
        if self._message.bare_timestamp:
            check_timestamp_width(text, now, self.timestamp_format, source)
        return timestamp

    def _match(self, candidates: Sequence[str], parts: tuple[bytes, ...], now: float) -> str:
        """The id of the first key valid at ``now`` that verifies a candidate over ``parts``.

        Args:
            candidates: the signatures as the header carries them (``prefix``
                included); those without ``prefix`` are skipped.
            parts: the signed message, as parts hashed in order.

        Raises:
            UnsupportedSignatureVersion: no candidate carries ``prefix``.
            MalformedSignature: none decodes to a signature of a key's length.
            NoValidKey: no key is valid at ``now``.
            SignatureMismatch: no key verifies any candidate.
        """
        raise NotImplementedError

    def _decode(self, candidates: Sequence[str]) -> list[bytes]:
        """The candidates that carry ``prefix``, decoded, of a length a key makes
        (a truncated or padded signature is dropped here).

        Raises:
            MalformedSignature: some candidates carry ``prefix``, none is plausible.
            UnsupportedSignatureVersion: no candidate carries ``prefix``.
        """
        prefix, header = self.prefix, self.header
        texts = [text[len(prefix) :] for text in candidates if text.startswith(prefix)]
        signatures = []
        for text in texts:
            try:
                decoded = decode_signature(text, self.encoding, header)
            except MalformedSignature:
                continue
            if len(decoded) in self._lengths:
                signatures.append(decoded)
        if signatures:
            return signatures
        if texts:
            raise MalformedSignature(
                f"the signature in {header} is not a valid {self.encoding} "
                f"{self.algorithm} {self._kind} (check encoding= and algorithm=)",
                header=header,
            )
        raise UnsupportedSignatureVersion(
            f"the {header} header has no signature"
            + (f" starting with {prefix!r} (check prefix=)" if prefix else ""),
            header=header,
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
        signature = encode_signature(signer(self._message.build(request, values)), self.encoding)
        signature = self.prefix + signature
        if self.header_format is not None:
            signature = self.header_format.render(signature, values.get("timestamp"))
        headers[self.header] = signature
        return headers

    def _mismatch(self) -> SignatureMismatch:
        return SignatureMismatch(
            f"the signature in {self.header} does not match", header=self.header
        )

    def _signer(self, now: float) -> Callable[[Sequence[bytes]], bytes]:
        """What signs a message, given as its parts, at ``now``; raises as :meth:`sign`."""
        raise NotImplementedError


def _immutable(self: object, name: str, value: object = None) -> None:
    raise AttributeError(f"{type(self).__name__} is immutable; build a new one")


# dataclass(frozen=True) writes __setattr__ and __delattr__ for the fields only,
# and with slots=True they call super() on the class the slots replaced: on
# Python 3.11 any other name (``secrets``, a preset's ``handshake``) is a
# TypeError. One refusal, for every name and every subclass, as before.
for _method in ("__setattr__", "__delattr__"):
    setattr(SignatureScheme, _method, _immutable)
