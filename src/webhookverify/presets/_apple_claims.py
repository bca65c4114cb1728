"""Whose notification it is: the app and environment an App Store notification
names, held to the configuration (Apple's ``SignedDataVerifier._verify_notification``).

Apple signs every app's notifications with the same chain, so a valid
signature proves only that Apple sent it; these checks prove it is for this app.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

from ..errors import VerificationError

__all__ = ["ENVIRONMENTS", "AppleClaimMismatch", "Environment", "check_app"]

Environment = Literal["Production", "Sandbox"]
ENVIRONMENTS: Final = ("Production", "Sandbox")
# Where the notification names its app, in Apple's order.
_APP_FIELDS: Final = ("data", "summary", "externalPurchaseToken", "appData")
_WHERE: Final = "signedPayload"


class AppleClaimMismatch(VerificationError):
    """Signed by Apple, but for another app or environment than configured."""

    reason = "claim_mismatch"
    default_message = (
        "the notification is for another app or environment (bundle_id=, app_apple_id=, "
        "environment=)"
    )


def _app_of(payload: Mapping[str, Any]) -> tuple[object, object, object]:
    """``(bundleId, appAppleId, environment)`` as Apple's library reads them."""
    for field in _APP_FIELDS:
        part = payload.get(field)
        if isinstance(part, dict):
            environment = part.get("environment")
            if field == "externalPurchaseToken":
                purchase = part.get("externalPurchaseId")
                sandbox = isinstance(purchase, str) and purchase.startswith("SANDBOX")
                environment = "Sandbox" if sandbox else "Production"
            return part.get("bundleId"), part.get("appAppleId"), environment
    return None, None, None


def check_app(
    payload: Mapping[str, Any],
    bundle_id: str,
    environment: Environment | None,
    app_apple_id: int | None,
) -> None:
    """Hold the notification's app to the configuration.

    Raises:
        AppleClaimMismatch: another ``bundleId``, environment or ``appAppleId``.
    """
    found_bundle, found_id, found_env = _app_of(payload)
    if found_bundle != bundle_id:
        raise AppleClaimMismatch(
            "the notification is for another app (bundleId); check bundle_id=", header=_WHERE
        )
    if environment is None and found_env not in ENVIRONMENTS:
        raise AppleClaimMismatch(
            "the notification is from neither Production nor Sandbox", header=_WHERE
        )
    if environment is not None and found_env != environment:
        raise AppleClaimMismatch(
            f"the notification is from {found_env!r}, not {environment!r}; check environment=",
            header=_WHERE,
        )
    if app_apple_id is not None and (isinstance(found_id, bool) or found_id != app_apple_id):
        raise AppleClaimMismatch(
            "the notification is for another app (appAppleId); check app_apple_id=",
            header=_WHERE,
        )
