"""Secrets: one key each, with an id and an optional validity window.

A verifier holds its secrets oldest first (``secrets=[old, new]``): rotating a
key appends the new one, and removes the old one once every sender has moved.
Verification tries every secret valid at ``now``; signing uses the newest.
Key material never appears in ``repr``, ``str``, logs or errors.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
from collections.abc import Iterable, Sequence
from typing import Any

from ._checks import check_list
from .errors import ConfigurationError

__all__ = ["RECOMMENDED_SECRET_BYTES", "Secret", "parse_secret", "to_secrets"]

# Check warns below this many bytes; nothing refuses a short key, since senders
# such as GitHub let people choose short secrets.
RECOMMENDED_SECRET_BYTES = 16


class Secret:
    """One secret key.

    Args:
        value: the key material. ``str`` is taken as UTF-8 text, as most
            dashboards show it; use :meth:`from_base64`, :meth:`from_hex` or
            :meth:`from_whsec` for encoded keys, or :func:`parse_secret` for a
            ``base64:``/``hex:``/``whsec_`` string from a configuration file.
        key_id: a name for logs and ``Verification.key_id``; never secret.
        not_before: unix seconds from which the key is valid.
        not_after: unix seconds at which the key stops being valid.

    Raises:
        ConfigurationError: empty key, or a window that ends before it starts.
    """

    __slots__ = ("_value", "key_id", "not_after", "not_before")

    _value: bytes
    key_id: str | None
    not_before: float | None
    not_after: float | None

    def __init__(
        self,
        value: str | bytes | bytearray,
        *,
        key_id: str | None = None,
        not_before: float | None = None,
        not_after: float | None = None,
    ) -> None:
        if isinstance(value, str):
            material = value.encode("utf-8")
        elif isinstance(value, bytes | bytearray):
            material = bytes(value)
        else:
            raise ConfigurationError(
                f"a Secret is built from str or bytes, not {type(value).__name__}"
            )
        if not material:
            raise ConfigurationError(
                "a secret is empty; copy the signing secret from the sender's settings"
            )
        for name, bound in (("not_before", not_before), ("not_after", not_after)):
            if bound is not None and (
                isinstance(bound, bool)
                or not isinstance(bound, int | float)
                or not math.isfinite(bound)
            ):
                raise ConfigurationError(f"Secret({name}=...) must be unix seconds")
        if not_before is not None and not_after is not None and not_after <= not_before:
            raise ConfigurationError(
                "Secret(not_after=...) must be later than not_before: the window is empty"
            )
        if key_id is not None and not isinstance(key_id, str):
            raise ConfigurationError("Secret(key_id=...) must be a str")
        set_ = object.__setattr__
        set_(self, "_value", material)
        set_(self, "key_id", key_id)
        set_(self, "not_before", None if not_before is None else float(not_before))
        set_(self, "not_after", None if not_after is None else float(not_after))

    @property
    def value(self) -> bytes:
        """The key material. Handle with care: never log it."""
        return self._value

    def is_valid_at(self, now: float) -> bool:
        """True when ``not_before <= now < not_after`` (open bounds where unset)."""
        if self.not_before is not None and now < self.not_before:
            return False
        return self.not_after is None or now < self.not_after

    # -- alternative constructors -------------------------------------------------

    @classmethod
    def from_base64(cls, text: str, **options: Any) -> Secret:
        """A key given as standard or URL-safe base64 (padding optional)."""
        return cls(_decode_b64(text, "base64"), **options)

    @classmethod
    def from_hex(cls, text: str, **options: Any) -> Secret:
        """A key given as hexadecimal (either case)."""
        try:
            return cls(bytes.fromhex(text.strip()), **options)
        except ValueError:
            raise ConfigurationError("a hex secret has characters that are not hex") from None

    @classmethod
    def from_whsec(cls, text: str, **options: Any) -> Secret:
        """A Standard Webhooks / Svix ``whsec_<base64>`` secret, decoded."""
        text = text.strip()
        if not text.startswith("whsec_"):
            raise ConfigurationError("a Standard Webhooks secret starts with 'whsec_'")
        return cls(_decode_b64(text[len("whsec_") :], "whsec_"), **options)

    # -- safety -------------------------------------------------------------------

    def fingerprint(self) -> str:
        """A short, non-reversible tag for telling keys apart in tooling output.

        It is a keyed hash truncated to 8 hex digits: enough to tell two
        configured keys apart, far too short to test guesses against.
        """
        return hashlib.blake2b(self._value, digest_size=4, person=b"whv-fprint").hexdigest()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def __repr__(self) -> str:
        parts = [f"key_id={self.key_id!r}"] if self.key_id is not None else []
        if self.not_before is not None:
            parts.append(f"not_before={self.not_before!r}")
        if self.not_after is not None:
            parts.append(f"not_after={self.not_after!r}")
        return f"Secret(<{len(self._value)} bytes hidden>{''.join(', ' + p for p in parts)})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return (
            hmac.compare_digest(self._value, other._value)
            and self.key_id == other.key_id
            and self.not_before == other.not_before
            and self.not_after == other.not_after
        )

    def __hash__(self) -> int:
        return hash((self.fingerprint(), self.key_id))

    def __reduce__(self) -> Any:
        raise TypeError("Secret objects are not picklable: keep keys out of caches and queues")


def _decode_b64(text: str, what: str) -> bytes:
    cleaned = text.strip()
    padded = cleaned + "=" * (-len(cleaned) % 4)
    try:
        if "-" in cleaned or "_" in cleaned:
            return base64.b64decode(padded, altchars=b"-_", validate=True)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"a {what} secret is not valid base64") from None


def parse_secret(spec: str, **options: Any) -> Secret:
    """Build a :class:`Secret` from a configuration string.

    ``whsec_...`` is decoded as Standard Webhooks does; ``base64:...`` and
    ``hex:...`` are decoded; ``raw:...`` and anything else is taken as UTF-8
    text, the way most dashboards display a secret.
    """
    if not isinstance(spec, str):
        raise ConfigurationError(f"a secret must be a string, not {type(spec).__name__}")
    if spec.startswith("whsec_"):
        return Secret.from_whsec(spec, **options)
    if spec.startswith("base64:"):
        return Secret.from_base64(spec[len("base64:") :], **options)
    if spec.startswith("hex:"):
        return Secret.from_hex(spec[len("hex:") :], **options)
    if spec.startswith("raw:"):
        return Secret(spec[len("raw:") :], **options)
    return Secret(spec, **options)


def to_secrets(
    secret: Secret | str | bytes | None,
    secrets: Iterable[Secret | str | bytes] | None,
    *,
    owner: str,
) -> tuple[Secret, ...]:
    """Normalise a verifier's ``secret=``/``secrets=`` arguments, oldest first.

    Plain ``str``/``bytes`` are raw key material (UTF-8 for ``str``); wrap a
    value in :class:`Secret` or use :func:`parse_secret` for encoded keys.

    Raises:
        ConfigurationError: neither or both given, an empty list, or a ``str``
            with a space or a line break at either end (a key is taken as is,
            so every delivery would fail; ``Secret(value)`` keeps one).
    """
    if secret is not None and secrets is not None:
        raise ConfigurationError(f"{owner} takes secret= or secrets=, not both")
    items: Sequence[Secret | str | bytes]
    if secret is not None:
        items = [secret]
    elif secrets is not None:
        if isinstance(secrets, str | bytes | Secret):
            raise ConfigurationError(f"{owner}(secrets=...) takes a list; use secret= for one")
        # a table would give its keys, a number no items at all
        items = check_list(secrets, "secrets", owner, hint="; use secret= for one")
    else:
        items = []
    if not items:
        raise ConfigurationError(f"{owner} needs a secret; set it with secret= or secrets=")
    out: list[Secret] = []
    for item in items:
        if isinstance(item, Secret):
            out.append(item)
        elif not item and isinstance(item, str | bytes | bytearray):
            raise ConfigurationError(
                f"{owner}: a secret is empty (an environment variable set to nothing?); "
                "copy the signing secret from the sender's settings"
            )
        elif isinstance(item, str):
            if item != item.strip():
                # no sender's dashboard shows a key with a space or a line break
                # around it: it came with the value (a file's or `echo`'s newline)
                raise ConfigurationError(
                    f"{owner}: a secret starts or ends with a space or a line break, "
                    "as a value read from a file or an environment variable can: strip it "
                    "(os.environ[...].strip()); if it belongs to the key, pass Secret(value)"
                )
            out.append(Secret(item))
        elif isinstance(item, bytes | bytearray):
            out.append(Secret(item))
        else:
            raise ConfigurationError(
                f"{owner}: a secret must be a Secret, str or bytes, not {type(item).__name__}"
            )
    return tuple(out)
