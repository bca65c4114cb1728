"""The sender's side of ``aws_sns``, for tests: a message signed as SNS signs
it (AWS SNS Developer Guide, "Verifying the signatures of Amazon SNS
messages"), with a test key whose certificate the test serves or configures.

Never for production: SNS signs with AWS's keys; only tests hold the private
key (``presets.aws_sns(private_key=..., signing_cert_url=...)``).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

from ._aws_sns import string_to_sign

__all__ = ["sign_message", "signed_message"]


def sign_message(private_key: Any, signing_cert_url: str, message: dict[str, Any]) -> bytes:
    """``message`` (its fields as SNS sends them, ``SignatureVersion``
    included) with ``Signature`` and ``SigningCertURL`` added, as JSON."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    version = message["SignatureVersion"]
    digest = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303 - SNS v1
    raw = private_key.sign(string_to_sign(message), padding.PKCS1v15(), digest)
    signed = {**message, "Signature": base64.b64encode(raw).decode()}
    signed["SigningCertURL"] = signing_cert_url
    return json.dumps(signed, separators=(",", ":")).encode()


def signed_message(
    private_key: Any,
    signing_cert_url: str,
    text: str,
    *,
    now: float,
    type: str,
    topic: str,
    message_id: str,
    subject: str | None,
    version: str,
) -> bytes:
    """A message of ``type`` from ``topic`` as SNS would send it, signed; a
    subscription message gets a ``Token`` and a ``SubscribeURL`` on the
    certificate's host, as SNS's do."""
    host = signing_cert_url.split("/")[2]
    message: dict[str, Any] = {
        "Type": type,
        "MessageId": message_id,
        "TopicArn": topic,
        "Message": text,
        "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
        + f".{int(now * 1000) % 1000:03d}Z",
        "SignatureVersion": version,
    }
    if subject is not None:
        message["Subject"] = subject
    if type != "Notification":
        message["Token"] = uuid.uuid4().hex  # SNS's is a long opaque text
        message["SubscribeURL"] = (
            f"https://{host}/?Action=ConfirmSubscription&TopicArn={topic}&Token={message['Token']}"
        )
    return sign_message(private_key, signing_cert_url, message)
