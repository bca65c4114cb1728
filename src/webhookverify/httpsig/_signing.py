"""What :meth:`HttpMessageSignatureVerifier.sign
<webhookverify.HttpMessageSignatureVerifier.sign>` sends: the ``Signature-Input``,
``Signature`` (and ``Content-Digest``) headers of a request, for tests and senders.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigurationError, VerificationError
from ..request import WebhookRequest
from ._base import content_digest, signature_base
from ._keys import SigningKey
from ._sfv import InnerList, Item, serialize_inner_list

__all__ = ["SIGN_COMPONENTS", "signed_headers"]

# What sign() covers unless told: the request line and the body.
SIGN_COMPONENTS = ("@method", "@target-uri", "content-digest")


def signed_headers(
    signer_id: str,
    signer: SigningKey,
    required_components: tuple[str, ...],
    body: bytes,
    moment: float,
    parts: Mapping[str, str],
) -> dict[str, str]:
    """The headers of ``body`` signed by ``signer`` at ``moment``; ``parts`` as
    :meth:`HttpMessageSignatureVerifier.sign` takes them.

    Raises:
        ConfigurationError: a covered field has no value.
    """
    text = parts.get("components")
    names = text.split() if text is not None else list(SIGN_COMPONENTS)
    names += [n for n in required_components if n not in names and text is None]
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
