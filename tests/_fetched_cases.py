"""The fetched-key presets as the suite-wide preset tests build them: keys given
(``FixedKeys``, nothing fetched), chosen by a secret so that two secrets give
two different signers, and a request each would send."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webhookverify import Secret, WebhookRequest, presets
from webhookverify.keyfetch import FixedKeys
from webhookverify.testing import sign_request

from _keyserver import pem_public, private_key

FETCHED = frozenset({"aws_sns", "google_chat", "google_oidc", "microsoft_graph", "paypal", "plaid"})
TOPIC = "arn:aws:sns:us-east-1:123456789012:MyTopic"
SNS_CERT = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem"
PAYPAL_CERT = "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77"


def settings(name: str) -> dict[str, Any]:
    """What each preset cannot do without, besides keys (for a factory call)."""
    return {
        "aws_sns": {"topics": [TOPIC]},
        "google_chat": {"project_number": "1234567890"},
        "google_oidc": {
            "audience": "https://hooks.example.test/push",
            "service_account": "push@example-project.iam.gserviceaccount.com",
        },
        "microsoft_graph": {"client_state": "a-long-random-client-state"},
        "paypal": {"webhook_id": "WH-1"},
        "plaid": {"client_id": "client", "secret": "plaid-secret"},
    }[name]


_INDEXES: dict[str, int] = {}


def _index(secret: str) -> int:
    """A test key of its own for each secret (made once: RSA keys are slow to make)."""
    return _INDEXES.setdefault(secret, 10 + len(_INDEXES))


def fetched_verifier(name: str, secret: str) -> Any:
    """Preset ``name`` with a key chosen by ``secret``, able to sign."""
    if name == "microsoft_graph":
        return presets.microsoft_graph(client_state=secret)
    kind = "ec" if name == "plaid" else "rsa"
    key = private_key(kind, _index(secret))
    public = pem_public(key)
    options = {k: v for k, v in settings(name).items() if k not in ("client_id", "secret")}
    if name == "aws_sns":
        return presets.aws_sns(
            keys=FixedKeys({SNS_CERT: public}),
            private_key=key,
            signing_cert_url=SNS_CERT,
            **options,
        )
    if name == "paypal":
        return presets.paypal(
            keys=FixedKeys({PAYPAL_CERT: public}),
            private_key=key,
            signing_cert_url=PAYPAL_CERT,
            **options,
        )
    keys = FixedKeys([Secret(public, key_id="k0")])
    return getattr(presets, name)(keys=keys, private_key=key, signing_key_id="k0", **options)


def fetched_request(
    name: str,
    verifier: Any,
    body: bytes,
    *,
    now: float,
    url: str,
    headers: Mapping[str, str] | None = None,
) -> WebhookRequest:
    """A request ``verifier`` signed: the message built around ``body`` where
    the sender puts its signature or credential in the body."""
    if name == "aws_sns":
        body = verifier.message(body.decode("latin-1"), now=now, message_id="msg-1")
    elif name == "microsoft_graph":
        body = verifier.notification(body.decode("latin-1"), now=now)
    return sign_request(verifier, body, now=now, url=url, headers=headers)
