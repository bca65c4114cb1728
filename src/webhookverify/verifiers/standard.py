"""Standard Webhooks: ``v1`` (HMAC-SHA256) and ``v1a`` (Ed25519) signatures.

The scheme of https://www.standardwebhooks.com (spec/standard-webhooks.md,
"Signature scheme" and "Webhook headers"), which Svix, and through Svix
Clerk, Resend and many others, deliver with ``svix-`` header names, and which
GitLab's signing tokens follow:

- ``webhook-id``: the delivery id, signed, stable across retries;
- ``webhook-timestamp``: integer unix seconds, signed;
- ``webhook-signature``: a space-separated list of ``<version>,<base64>``
  entries, one per key the sender signs with (rotation), over
  ``{id}.{timestamp}.{body}``.

``v1`` is HMAC-SHA256 keyed with the bytes of a ``whsec_<base64>`` secret
(base64-decoded: the ``whsec_`` text itself is not the key, unlike Stripe's
``whsec_`` secrets); ``v1a`` is Ed25519 with a ``whpk_<base64>`` public key.
Entries of any other version are skipped.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._checks import check_list
from ..errors import (
    ConfigurationError,
    MalformedSignature,
    NoValidKey,
    SignatureMismatch,
    UnsupportedSignatureVersion,
    VerificationError,
)
from ..keys import Secret
from ..request import WebhookRequest
from ._base import DEFAULT_TOLERANCE, ReplayMode, Verification, check_name
from ._scheme import SchemeOptions
from .hmac import HmacVerifier

if TYPE_CHECKING:
    from .asymmetric import PrivateKeyInput, PublicKeyInput, PublicKeyVerifier

__all__ = ["SIGNED_MESSAGE", "StandardWebhooksVerifier"]

# Standard Webhooks §Signature scheme: the signed content, for both versions.
SIGNED_MESSAGE = "{id}.{timestamp}.{body}"
# What one version raises when the request is for the other version to judge;
# anything else (a header, the timestamp) is the same for both and raised at once.
_VERSION_FAILURES = (UnsupportedSignatureVersion, SignatureMismatch, MalformedSignature, NoValidKey)
# RFC 9110 §5.1 token characters, so that prefix + "id" is a valid field name.
_HEADER_PREFIX = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _v1_secret(item: Secret | str | bytes, owner: str) -> Secret | str | bytes:
    """A ``str`` is the secret as dashboards show it: ``whsec_`` + base64.

    The official libraries base64-decode any string, with or without the
    ``whsec_`` prefix; so does this. ``bytes`` and ``Secret`` are raw keys,
    but not ``bytes`` that spell a ``whsec_`` secret (a file read in binary):
    taken as the key, they would fail every delivery.
    """
    if isinstance(item, str):
        text = item.strip()
        if not text:
            return text  # refused with the verifier's name, as every empty secret
        if text.startswith("whsec_"):
            return Secret.from_whsec(text)
        return Secret.from_base64(text)
    if isinstance(item, bytes | bytearray) and item.strip().startswith(b"whsec_"):
        raise ConfigurationError(
            f"{owner}: a secret is bytes that read whsec_...: that is the secret as the "
            "dashboard shows it, which is base64-decoded; pass it as str (.decode()), "
            "or the decoded key as bytes"
        )
    return item


@dataclass(slots=True, init=False, eq=False, repr=False)  # slots from the annotations
class StandardWebhooksVerifier:
    """Verify a Standard Webhooks (or Svix) delivery: ``v1`` HMAC and/or ``v1a`` Ed25519.

    Args:
        secret: the ``v1`` signing secret.
        secrets: several ``v1`` signing secrets, oldest first. A
            ``str`` is ``whsec_<base64>`` (the prefix optional) and is
            base64-decoded, as the official libraries do; ``bytes`` or a
            :class:`~webhookverify.Secret` is the raw key.
        public_key: the ``v1a`` Ed25519 key.
        public_keys: several ``v1a`` Ed25519 keys: ``whpk_<base64>``
            or any form :class:`PublicKeyVerifier` reads, ``(key_id, key)``
            pairs or ``Secret`` wrappers for ids and validity windows.
        private_key: a ``whsk_`` key (or any Ed25519 private key), only to
            :meth:`sign` ``v1a`` (tests, the CLI).
        header_prefix: ``webhook-`` (default); Svix sends ``svix-``.
        tolerance: how old ``webhook-timestamp`` may be, in seconds (default
            300, as the specification's libraries use); ``None`` turns it off.
        future_tolerance: how far ahead it may be (default: same as tolerance).
        scheme: reported as ``<scheme>-v1`` or ``<scheme>-v1a``.
        owner: how configuration errors name this verifier (default
            ``StandardWebhooksVerifier``); presets pass their own name.

    A request passes when one entry of a configured version verifies with one
    configured key. Unknown versions are skipped; a header with more than
    :data:`~webhookverify.verifiers._base.MAX_SIGNATURES` entries is refused
    before any hashing. The signed ``webhook-id`` is the delivery id, so the
    replay guard keys on it by default.

    ``v1`` is checked by an :class:`HmacVerifier` and ``v1a`` by a
    :class:`PublicKeyVerifier` (which loads ``cryptography`` only when a
    public key is configured). With both, each reads the request in turn,
    ``v1`` first.

    Raises:
        ConfigurationError: no key at all, or any bad setting, at construction.
    """

    header_prefix: str
    signature_header: str
    timestamp_header: str
    id_header: str
    tolerance: float | None
    future_tolerance: float | None
    scheme: str
    _versions: tuple[HmacVerifier | PublicKeyVerifier, ...]  # the configured ones, v1 first

    def __init__(
        self,
        *,
        secret: Secret | str | bytes | None = None,
        secrets: Iterable[Secret | str | bytes] | None = None,
        public_key: PublicKeyInput | None = None,
        public_keys: Iterable[PublicKeyInput] | None = None,
        private_key: PrivateKeyInput | None = None,
        header_prefix: str = "webhook-",
        tolerance: float | None = DEFAULT_TOLERANCE,
        future_tolerance: float | None = None,
        scheme: str = "standard-webhooks",
        owner: str = "StandardWebhooksVerifier",
    ) -> None:
        check_name(owner, "owner", "StandardWebhooksVerifier", optional=False, field=False)
        if not isinstance(header_prefix, str) or not _HEADER_PREFIX.fullmatch(header_prefix):
            raise ConfigurationError(
                f"{owner}(header_prefix=...) must be header-name text such as 'webhook-' or 'svix-'"
            )
        check_name(scheme, "scheme", owner, optional=False, field=False)
        has_v1 = secret is not None or secrets is not None
        has_v1a = public_key is not None or public_keys is not None or private_key is not None
        if not has_v1 and not has_v1a:
            raise ConfigurationError(
                f"{owner} needs a key: secret=/secrets= for v1 (whsec_...), or "
                "public_key=/public_keys= for v1a (whpk_...)"
            )
        # Standard Webhooks §Signature scheme: both versions sign the same
        # message and send a space-separated list in the same header. Each
        # version checks the settings it is given (the tolerances too).
        options: SchemeOptions = {
            "header": f"{header_prefix}signature",
            "encoding": "base64",
            "delimiter": " ",
            "template": SIGNED_MESSAGE,
            "timestamp_header": f"{header_prefix}timestamp",
            "id_header": f"{header_prefix}id",
            "tolerance": tolerance,
            "future_tolerance": future_tolerance,
        }
        # v1 first: the cheaper check, and the version senders use most
        versions: list[HmacVerifier | PublicKeyVerifier] = []
        if has_v1:
            if secrets is not None and not isinstance(secrets, str | bytes | Secret):
                items = check_list(secrets, "secrets", owner, hint="; use secret= for one")
                secrets = [_v1_secret(s, owner) for s in items]
            v1 = HmacVerifier(
                secret=None if secret is None else _v1_secret(secret, owner),
                secrets=secrets,
                algorithm="sha256",
                prefix="v1,",
                scheme=f"{scheme}-v1",
                owner=owner,
                **options,
            )
            versions.append(v1)
        if has_v1a:
            # Loaded here so that HMAC-only users never import cryptography.
            from .asymmetric import PublicKeyVerifier

            v1a = PublicKeyVerifier(
                algorithm="ed25519",
                public_key=public_key,
                public_keys=public_keys,
                private_key=private_key,
                prefix="v1a,",
                scheme=f"{scheme}-v1a",
                owner=owner,
                **options,
            )
            versions.append(v1a)
        set_ = object.__setattr__
        set_(self, "header_prefix", header_prefix)
        set_(self, "signature_header", options["header"])
        set_(self, "timestamp_header", options["timestamp_header"])
        set_(self, "id_header", options["id_header"])
        set_(self, "tolerance", versions[0].tolerance)  # as checked by the versions
        set_(self, "future_tolerance", versions[0].future_tolerance)
        set_(self, "scheme", scheme)
        set_(self, "_versions", tuple(versions))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("StandardWebhooksVerifier is immutable; build a new one")

    # -- what the registry and the receiver read -----------------------------------

    @property
    def versions(self) -> tuple[str, ...]:
        """The signature versions this verifier accepts (``v1``, ``v1a``)."""
        return tuple(version.prefix.rstrip(",") for version in self._versions)

    # Both versions read the same headers and the same timestamp: either answers.

    @property
    def required_headers(self) -> tuple[str, ...]:
        """``webhook-signature``, ``webhook-timestamp``, ``webhook-id`` (with the prefix)."""
        return self._versions[0].required_headers

    @property
    def replay_default(self) -> ReplayMode:
        """``id``: ``webhook-id`` is signed and stays the same across retries."""
        return self._versions[0].replay_default

    @property
    def replay_window(self) -> float | None:
        """Seconds a replayed delivery could still pass the timestamp check."""
        return self._versions[0].replay_window

    # -- verification --------------------------------------------------------------

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify ``request``; return what was proved or raise a ``VerificationError``.

        Args:
            request: the request as received.
            now: unix seconds to judge ``webhook-timestamp`` by (default: when
                the request was received).

        Returns:
            The :class:`Verification`, with the signed ``webhook-id`` as
            ``delivery_id`` and ``webhook-timestamp`` as ``timestamp``.

        Raises:
            MissingHeader, DuplicateHeader, MalformedHeader: a header is
                absent, repeated, empty, or lists too many signatures.
            MalformedTimestamp, TimestampTooOld, TimestampInFuture: the
                signed timestamp. UnsupportedSignatureVersion: no entry of a
                configured version. MalformedSignature: none decodes.
                NoValidKey: no key valid at ``now``. SignatureMismatch: no
                entry verifies.
        """
        # Both versions read the same headers and timestamp and sign the same
        # message: an error there is the answer for both. A version with no
        # entry of its own, or none that verifies, lets the other try; when
        # neither passes, the most telling failure is raised (a mismatch or a
        # malformed entry over a missing one).
        failures: tuple[VerificationError, ...] = ()
        for version in self._versions:
            try:
                return version.verify(request, now)
            except _VERSION_FAILURES as exc:
                failures += (exc,)
        telling = [f for f in failures if not isinstance(f, UnsupportedSignatureVersion)]
        if telling or len(failures) == 1:
            raise (telling or failures)[0]
        raise UnsupportedSignatureVersion(
            f"the {self.signature_header} header has no v1 or v1a signature",
            header=self.signature_header,
        )

    # -- the sender's side ---------------------------------------------------------

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """Sign ``body`` as a Standard Webhooks sender; return the headers to send.

        Every configured version signs (``v1`` with the newest valid secret,
        ``v1a`` with ``private_key`` when given); the entries share one id
        and one timestamp, space-separated in the signature header.

        Args:
            body: the raw body.
            now: unix seconds for ``webhook-timestamp`` (default: the clock).
            parts: ``id=`` and ``timestamp=`` to use instead of the defaults;
                ``method=``/``url=`` are accepted and ignored (not signed).

        Raises:
            NoValidKey: no key is valid at ``now``.
            ConfigurationError: only public keys are configured (nothing to
                sign with).
        """
        signers = [v for v in self._versions if isinstance(v, HmacVerifier) or v.can_sign]
        if not signers:
            raise ConfigurationError(
                "StandardWebhooksVerifier.sign() needs a whsec_ secret or a whsk_ "
                "private_key; public keys only verify"
            )
        if now is None:
            now = time.time()
        entries: list[str] = []
        for inner in signers:
            try:
                headers = inner.sign(body, now, **parts)
            except NoValidKey:
                continue
            entries.append(headers[self.signature_header])
            # the next version signs the same id and timestamp
            parts.update(id=headers[self.id_header], timestamp=headers[self.timestamp_header])
        if not entries:
            raise NoValidKey()
        headers[self.signature_header] = " ".join(entries)
        return headers

    def __repr__(self) -> str:
        secrets = sum(len(v.secrets) for v in self._versions if isinstance(v, HmacVerifier))
        keys = [k for v in self._versions if not isinstance(v, HmacVerifier) for k in v.key_ids]
        return (
            f"StandardWebhooksVerifier(header_prefix={self.header_prefix!r}, "
            f"versions={self.versions!r}, secrets=<{secrets} hidden>, public_keys={keys!r})"
        )
