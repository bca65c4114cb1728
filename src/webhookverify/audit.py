"""What ``webhookverify check`` says about each handler, and ``explain`` about a request.

``check`` gives a summary and warnings. Warnings are advice, not errors: a
configuration that loads is usable, and ``check`` exits 0 for it. They name a
key by its ``key_id`` or its position (``secret[1]``), never by its value.
``explain`` shows the numbers behind a timestamp refused as stale or early.
"""

from __future__ import annotations

import time

from .errors import TimestampInFuture, TimestampOutsideTolerance
from .keys import RECOMMENDED_SECRET_BYTES, Secret
from .keysource import variable_name
from .registry import Handler
from .verifiers.token import TokenVerifier

__all__ = ["describe_handler", "format_utc", "freshness_lines", "key_warnings"]

# Every Stripe endpoint secret starts so (Stripe's docs, "Verify webhook
# signatures"); an API key (sk_..., rk_...) pasted in its place verifies nothing.
STRIPE_SECRET_PREFIX = b"whsec_"


def describe_handler(handler: Handler, *, now: float) -> tuple[str, list[str]]:
    """One summary line for ``handler``, and its warnings.

    Args:
        handler: a configured handler.
        now: unix seconds at which to judge the keys' validity windows.

    Returns:
        ``(line, warnings)``: scheme, required headers, user, replay mode and
        number of keys; then one sentence per warning.
    """
    verifier = handler.verifier
    secrets = tuple(getattr(verifier, "secrets", ()))
    warnings = key_warnings(secrets, now=now)
    if getattr(verifier, "algorithm", "") == "sha1":
        warnings.append("signs with SHA-1: use it only where the sender requires it")
    if isinstance(verifier, TokenVerifier):
        warnings.append("a token proves less than a signature: it does not cover the body")
    if getattr(verifier, "replay_window", 1) is None and handler.replay_mode != "off":
        warnings.append(
            "no signed timestamp: replays are caught only while remembered (24 h; 3 days by "
            "a signed id; replay_ttl=)"
        )
    if handler.replay_mode == "off":
        warnings.append("replay protection is off for this handler")
    scheme = getattr(verifier, "scheme", type(verifier).__name__)
    if scheme.startswith("stripe-"):
        warnings.extend(
            f"{secret.key_id or f'secret[{index}]'} is not a Stripe signing secret "
            "(whsec_...): copy the endpoint's Signing secret, not an API key"
            for index, secret in enumerate(secrets)
            if isinstance(secret, Secret) and not secret.value.startswith(STRIPE_SECRET_PREFIX)
        )
    headers = ", ".join(verifier.required_headers) or "(none)"
    state = "" if handler.enabled else " [disabled]"
    line = (
        f"{handler.name}{state}: {scheme}; headers {headers}; user {handler.user or '-'}; "
        f"replay {handler.replay_mode}; keys {len(secrets) or '-'}"
    )
    return line, warnings


def key_warnings(secrets: tuple[object, ...], *, now: float) -> list[str]:
    """Warnings about a verifier's secrets (oldest first), judged at ``now``.

    A key is named by its ``key_id``, else ``secret[N]``. Warned about: a key
    shorter than :data:`RECOMMENDED_SECRET_BYTES`; a key whose text looks like
    an environment variable (``$NAME``, ``GITHUB_WEBHOOK_SECRET``): a variable
    that holds another's name, or a ``raw:`` value; a key whose window has
    ended or not begun at ``now``, and a handler none of whose keys is valid.
    """
    warnings: list[str] = []
    valid = 0
    for index, secret in enumerate(secrets):
        if not isinstance(secret, Secret):
            continue
        label = secret.key_id or f"secret[{index}]"
        value = secret.value
        if len(value) < RECOMMENDED_SECRET_BYTES:
            warnings.append(
                f"{label} is {len(value)} bytes; {RECOMMENDED_SECRET_BYTES} or more resist guessing"
            )
        if value.isascii() and variable_name(value.decode("ascii")) is not None:
            warnings.append(
                f"{label} looks like an environment variable's name or reference, not a key: "
                "check what its env:/file: source holds"
            )
        if secret.not_after is not None and secret.not_after <= now:
            warnings.append(
                f"{label} expired at {format_utc(secret.not_after)} (not_after): "
                "remove it once no sender signs with it"
            )
        elif secret.not_before is not None and now < secret.not_before:
            warnings.append(
                f"{label} is not valid before {format_utc(secret.not_before)} (not_before)"
            )
        else:
            valid += 1
    if secrets and not valid:
        warnings.append("no key is valid now: this handler refuses every delivery")
    return warnings


def format_utc(seconds: float) -> str:
    """``seconds`` since the epoch as ``2026-01-01 00:00:00 UTC``."""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


def freshness_lines(error: TimestampOutsideTolerance) -> list[str]:
    """The numbers behind a timestamp refusal, one fact a line.

    Returns:
        When the request was signed, the time it was judged at, the gap and
        the tolerance that it exceeds (``tolerance`` for a stale timestamp,
        ``future_tolerance`` for an early one); no lines when the verifier
        did not record the numbers.
    """
    if error.timestamp is None or error.now is None:
        return []
    ahead = isinstance(error, TimestampInFuture)
    setting = "future_tolerance" if ahead else "tolerance"
    limit = "" if error.tolerance is None else f"; {setting} is {_seconds(error.tolerance)} s"
    gap = abs(error.now - error.timestamp)
    return [
        f"signed at {_seconds(error.timestamp)} ({format_utc(error.timestamp)})",
        f"now       {_seconds(error.now)} ({format_utc(error.now)})",
        f"{_seconds(gap)} s {'ahead of this clock' if ahead else 'old'}{limit}"
        " (--now T judges the request at another time)",
    ]


def _seconds(value: float) -> str:
    """Seconds as written by a person: ``1767225600``, ``12.5``, never ``1.7e+09``."""
    return f"{value:.3f}".rstrip("0").rstrip(".")
