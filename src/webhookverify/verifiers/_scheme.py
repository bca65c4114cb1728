"""What :class:`HmacVerifier` and :class:`PublicKeyVerifier` share: everything
but the cryptography.

Both check a signature carried in one header (perhaps a list of them) over a
signed message built from the request, with an optional signed timestamp and
delivery id read from their own headers, against keys listed oldest first
(see :mod:`._keyring`). Only two steps differ: how the candidates are checked
against the keys, and how a message is signed. :class:`SignatureScheme`
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
    MalformedBody,
    MalformedHeader,
    MalformedSignature,
    MissingHeader,
    SignatureMismatch,
    UnsupportedSignatureVersion,
    VerificationError,
)
from ..request import WebhookRequest
from ._base import (
    MAX_SIGNATURES,
    Encoding,
    ReplayMode,
    TimestampFormat,
    Verification,
    check_encoding,
    check_freshness,
    check_name,
    check_tolerance,
    decode_signature,
    encode_signature,
    format_timestamp,
    header_fault,
    parse_timestamp,
    replay_window,
)
from ._bodyid import IdField, body_id, check_id_field
from ._headers import MAX_ENTRIES, KeyValueHeader
from ._keyring import KeyEntry, has_windows, valid_keys
from ._plan import Matcher, Plan, make_plan
from ._template import MessageBuilder, MessageTemplate, check_message

__all__ = ["Matcher", "SchemeOptions", "SignatureScheme"]

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
    id_field: str | IdField | None
    timestamp_format: TimestampFormat
    tolerance: float | None
    future_tolerance: float | None


class SignatureScheme(Generic[K]):
    """The base of a verifier that differs from the others only in its cryptography.

    A subclass calls :meth:`_configure`, then :meth:`_set_keys` from its
    ``__init__``, and provides :meth:`_signer` and either :meth:`_match` or,
    to check candidates with a function prepared once per configuration,
    :meth:`_matcher`. :meth:`verify` reads a request in one pass, driven by
    the plan made at construction, and hands the matcher the candidates and
    the signed message. A verifier of several schemes read from the same
    headers (Standard Webhooks ``v1`` and ``v1a``) is a scheme whose
    ``_match`` asks each of them.
    """

    __slots__ = (
        "_checker",
        "_has_windows",
        "_keys",
        "_lengths",
        "_message",
        "_plan",
        "_signs_id",
        "_timestamp_source",
        "algorithm",
        "delimiter",
        "encoding",
        "future_tolerance",
        "header",
        "header_format",
        "id_field",
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
    header_format: KeyValueHeader | None
    timestamp_header: str | None
    id_header: str | None
    id_field: IdField | None
    timestamp_format: TimestampFormat
    tolerance: float | None
    future_tolerance: float | None
    scheme: str
    _message: MessageBuilder
    _timestamp_source: str | None
    _signs_id: bool
    _plan: Plan
    _checker: Matcher  # the plan's: what checks the candidates
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
        header_format: KeyValueHeader | None = None,
        id_field: str | IdField | None = None,
    ) -> None:
        """Check and set the settings every scheme has (see :class:`SchemeOptions`).

        Args:
            owner: how the caller spelled the verifier (``HmacVerifier``,
                ``presets.stripe``), for error messages.
            header_format: the signature header is ``key=value`` entries; the
                timestamp is read from there when it has a ``timestamp_key``.
            id_field: the member of a JSON body that holds the sender's event
                id, read once the signature has passed (see :mod:`._bodyid`).

        Raises:
            ConfigurationError: naming the setting to check.
        """
        check_name(header, "header", owner, optional=False)
        check_name(timestamp_header, "timestamp_header", owner)
        check_name(id_header, "id_header", owner)
        check_name(scheme, "scheme", owner, optional=False, field=False)
        if not isinstance(prefix, str):
            raise ConfigurationError(f"{owner}(prefix=...) must be a str")
        if delimiter is not None and (not isinstance(delimiter, str) or not delimiter):
            raise ConfigurationError(f"{owner}(delimiter=...) must be a non-empty str or None")
        if header_format is not None and not isinstance(header_format, KeyValueHeader):
            raise ConfigurationError(f"{owner}(header_format=...) must be a KeyValueHeader")
        if delimiter is not None and header_format is not None:
            raise ConfigurationError(
                f"{owner}(delimiter=...) cannot be combined with header_format; the "
                "KeyValueHeader says how the header splits"
            )
        timestamp_source = timestamp_header
        if header_format is not None and header_format.timestamp_key is not None:
            if timestamp_header is not None:
                raise ConfigurationError(
                    f"{owner}: the timestamp comes from header_format; drop timestamp_header"
                )
            timestamp_source = header
        if timestamp_format not in ("unix", "unix_ms", "rfc3339"):
            raise ConfigurationError(
                f"{owner}(timestamp_format=...) must be 'unix', 'unix_ms' or 'rfc3339'"
            )
        message = check_message(
            MessageTemplate(template) if isinstance(template, str) else template,
            timestamp_source,
            id_header,
            owner,
        )
        path = check_id_field(id_field, owner)
        if path is not None and "id" in message.signs:
            raise ConfigurationError(
                f"{owner}: the message signs the id in {id_header}, and id_field=... names "
                "another; use one of them"
            )
        tolerance = check_tolerance(tolerance, "tolerance", owner)
        future = check_tolerance(future_tolerance, "future_tolerance", owner)
        future = tolerance if future is None else future
        set_ = object.__setattr__
        set_(self, "header", header)
        set_(self, "encoding", check_encoding(encoding, owner))
        set_(self, "prefix", prefix)
        set_(self, "delimiter", delimiter)
        set_(self, "header_format", header_format)
        set_(self, "timestamp_header", timestamp_header)
        set_(self, "id_header", id_header)
        set_(self, "id_field", path)
        set_(self, "timestamp_format", timestamp_format)
        set_(self, "tolerance", tolerance)
        set_(self, "future_tolerance", future)
        set_(self, "scheme", scheme)
        set_(self, "_message", message)
        set_(self, "_timestamp_source", timestamp_source)
        set_(self, "_signs_id", "id" in message.signs)

    def _set_keys(self, keys: Sequence[KeyEntry[K]], lengths: frozenset[int]) -> None:
        """Set the keys, oldest first, and the decoded lengths their signatures have.

        Called last: the plan :meth:`verify` follows is made here, with the
        subclass's :meth:`_matcher`.
        """
        set_ = object.__setattr__
        set_(self, "_keys", tuple(keys))
        set_(self, "_has_windows", has_windows(keys))
        set_(self, "_lengths", lengths)
        checker = self._matcher()
        set_(self, "_checker", checker)
        plan = make_plan(
            header=self.header,
            header_format=self.header_format,
            delimiter=self.delimiter,
            timestamp_source=self._timestamp_source,
            timestamp_header=self.timestamp_header,
            timestamp_format=self.timestamp_format,
            tolerance=self.tolerance,
            future_tolerance=self.future_tolerance,
            id_header=self.id_header,
            message=self._message,
            match=checker,
        )
        set_(self, "_plan", plan)

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
        """``id`` when the message signs a delivery id or ``id_field`` names one, else
        ``content`` (also the fallback for a body without that id)."""
        return "id" if self._signs_id or self.id_field is not None else "content"

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
        # One pass, in the order errors are reported: the signature header, the
        # timestamp, the id, the message; then the cryptography (match). This is
        # the hot path of every HMAC and public-key scheme: choices are locals
        # from the plan, and each header is one lookup in the index Headers
        # keeps by lower-cased name.
        if now is None:
            now = request.received_at
        (
            header_key,
            separator,
            signature_key,
            timestamp_key,
            delimiter,
            stamp_from,
            stamp_key,
            stamp_digits,
            past,
            future,
            id_key,
            signs_id,
            lead,
            trail,
            head,
            head_values,
            match,
        ) = self._plan
        index = request.headers.by_name
        try:
            found = index[header_key]
            (raw,) = found
        except (KeyError, ValueError):  # absent or repeated
            raise header_fault(self.header, index.get(header_key, ())) from None
        if not raw:
            raise header_fault(self.header, found)
        stamp: str | None = None
        candidates: Sequence[str] = found
        if separator is not None:
            # key=value entries (KeyValueHeader): the signatures and one timestamp
            entries = raw.split(separator)
            if len(entries) > MAX_ENTRIES:
                raise MalformedHeader(
                    f"the {self.header} header has too many entries", header=self.header
                )
            candidates = []
            for entry in entries:
                key, eq, value = entry.strip().partition("=")
                if not eq:
                    raise MalformedHeader(
                        f"the {self.header} header has an entry without '='", header=self.header
                    )
                if key == signature_key:
                    candidates.append(value)
                elif key == timestamp_key:
                    if stamp is not None:
                        raise MalformedHeader(
                            f"the {self.header} header has more than one timestamp",
                            header=self.header,
                        )
                    stamp = value
            if stamp is None and timestamp_key is not None:
                raise MissingHeader(
                    f"the {self.header} header has no timestamp entry", header=self.header
                )
            if len(candidates) > MAX_SIGNATURES:
                raise MalformedHeader(
                    f"the {self.header} header has too many signatures", header=self.header
                )
        elif delimiter is not None:
            candidates = [text.strip() for text in raw.split(delimiter)]
            if len(candidates) > MAX_SIGNATURES:
                raise MalformedHeader(
                    f"the {self.header} header has too many signatures", header=self.header
                )
        timestamp: float | None = None
        if stamp_from is not None:
            if stamp_key is not None:
                try:
                    (stamp,) = index[stamp_key]
                except (KeyError, ValueError):
                    raise header_fault(stamp_from, index.get(stamp_key, ())) from None
                if not stamp:
                    raise header_fault(stamp_from, (stamp,))
            elif stamp is None:  # not reached: the entry is required above
                raise MissingHeader(f"the {stamp_from} header has no timestamp", header=stamp_from)
            # parse_timestamp's own test for unix seconds, made without a call:
            # header text is latin-1, where only 0-9 are decimal (isascii and isdigit)
            if len(stamp) <= stamp_digits and stamp.isdecimal():
                timestamp = float(stamp)
            else:
                timestamp = parse_timestamp(stamp, self.timestamp_format, stamp_from)
            if timestamp < now - past or timestamp > now + future:
                check_freshness(timestamp, now, self.tolerance, self.future_tolerance, stamp_from)
        ident: str | None = None
        if id_key is not None:
            try:
                (ident,) = index[id_key]
            except (KeyError, ValueError):
                raise header_fault(str(self.id_header), index.get(id_key, ())) from None
            if not ident:
                raise header_fault(str(self.id_header), (ident,))
        # The signed message: latin-1 header text back to the bytes received
        # (MessageTemplate._head); the body is its own part, never copied.
        parts: tuple[bytes, ...]
        if lead is not None and stamp is not None:
            parts = ((lead + stamp + trail).encode("latin-1"), request.body)
        elif head is None:
            parts = self._build(request, stamp, ident)
        elif head:
            parts = ((head % (stamp, ident)[head_values]).encode("latin-1"), request.body)
        else:
            parts = (request.body,)
        verification = match(now, candidates, parts, timestamp, ident if signs_id else None)
        if self.id_field is None:
            return verification
        # The signature has passed: the body is signed material now, and its
        # event id identifies a retry that was signed again (see _bodyid).
        event_id = body_id(request.body, self.id_field)
        return verification if event_id is None else verification._replace(delivery_id=event_id)

    def _build(
        self, request: WebhookRequest, stamp: str | None, ident: str | None
    ) -> tuple[bytes, ...]:
        """The signed message from a builder no template compiles (a user's included).

        Raises:
            MalformedBody: the builder raised anything but a VerificationError
                (chained as the cause), or returned a part that is not
                ``bytes``: a builder's failure on a request refuses that
                request, it never escapes ``verify``.
            VerificationError: as the builder raised it.
        """
        values: dict[str, str] = {}
        if stamp is not None:
            values["timestamp"] = stamp
        if ident is not None:
            values["id"] = ident
        try:
            parts = tuple(self._message(request, values))
        except VerificationError:
            raise
        except Exception as exc:
            raise MalformedBody(
                f"the message {self.header} signs could not be built from this request "
                f"({type(exc).__name__} in template=...)",
                header=self.header,
            ) from exc
        for part in parts:
            if not isinstance(part, bytes):
                raise MalformedBody(
                    f"the message {self.header} signs is not bytes: template=... returned a "
                    f"{type(part).__name__} part",
                    header=self.header,
                )
        return parts

    def _matcher(self) -> Matcher:
        """What checks the candidates; called once, when the keys are set.

        The default is :meth:`_match`; a subclass may return a function
        prepared for its configuration instead.
        """
        return self._match

    def _match(
        self,
        now: float,
        candidates: Sequence[str],
        parts: tuple[bytes, ...],
        timestamp: float | None,
        delivery_id: str | None,
    ) -> Verification:
        """Check the candidates against the message with the keys valid at ``now``.

        See :class:`Matcher`.
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
        signature = self.prefix + signature
        if self.header_format is not None:
            signature = self.header_format.render(signature, values.get("timestamp"))
        headers[self.header] = signature
        return headers

    def _signer(self, now: float) -> Callable[[Sequence[bytes]], bytes]:
        """What signs a message, given as its parts, at ``now``; raises as :meth:`sign`."""
        raise NotImplementedError
