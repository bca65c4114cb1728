from __future__ import annotations

import base64
from typing import Any

import pytest

from webhookverify import (
    ConfigurationError,
    Secret,
    TokenVerifier,
    VerificationError,
    WebhookRequest,
)

from contract import NOW, VerifierContract


class _TokenContract(VerifierContract):
    """A token signs nothing: the body tests become "the token alone decides"."""

    def test_altered_body_rejected(self, where: str = "") -> None:  # type: ignore[override]
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        # a token does not cover the body: that is the documented limit
        verifier.verify(request.replace(body=b"anything"), now=NOW)
        assert verifier.replay_default == "off"

    def test_property_round_trip_and_any_flip(self) -> None:  # type: ignore[override]
        verifier = self.make([self.new_key(0)])
        assert verifier.verify(self.signed(verifier, body=b"\x00\xff"), now=NOW).key_id == "k0"

    def test_garbage_body_gives_only_verification_errors(self) -> None:
        verifier = self.make([self.new_key(0)])
        verifier.verify(self.signed(verifier).replace(body=b"\xff"), now=NOW)


class TestGitLabTokenContract(_TokenContract):
    def make(self, keys: list[Any]) -> TokenVerifier:
        return TokenVerifier(secrets=keys, header="X-Gitlab-Token")


class TestBearerContract(_TokenContract):
    def make(self, keys: list[Any]) -> TokenVerifier:
        return TokenVerifier(secrets=keys, header="Authorization", prefix="Bearer ")


class TestBasicContract(_TokenContract):
    def make(self, keys: list[Any]) -> TokenVerifier:
        return TokenVerifier(secrets=keys, basic=True, username="hook")


def test_bearer_prefix_case_insensitive() -> None:
    verifier = TokenVerifier(secret="tok", header="Authorization", prefix="Bearer ")
    verifier.verify(WebhookRequest(headers={"Authorization": "bearer tok"}))
    with pytest.raises(VerificationError) as info:
        verifier.verify(WebhookRequest(headers={"Authorization": "tok"}))
    assert info.value.reason == "malformed_header"


def test_basic_credentials() -> None:
    verifier = TokenVerifier(secret="pw", basic=True, username="hook")

    def basic(text: str) -> WebhookRequest:
        encoded = base64.b64encode(text.encode()).decode()
        return WebhookRequest(headers={"Authorization": f"Basic {encoded}"})

    verifier.verify(basic("hook:pw"))
    for wrong in ("other:pw", "hook:px", "hookpw", "hook:"):
        with pytest.raises(VerificationError):
            verifier.verify(basic(wrong))
    anyone = TokenVerifier(secret="pw", basic=True)
    anyone.verify(basic("whoever:pw"))
    with pytest.raises(VerificationError):
        verifier.verify(WebhookRequest(headers={"Authorization": "Basic !!"}))


def test_token_of_another_length_rejected_in_same_way() -> None:
    verifier = TokenVerifier(secret="a-long-token", header="T")
    for guess in ("a", "a-long-toke", "a-long-token-", ""):
        with pytest.raises(VerificationError):
            verifier.verify(WebhookRequest(headers={"T": guess}))


def test_rotation_and_windows() -> None:
    verifier = TokenVerifier(secrets=[Secret("old", key_id="o", not_after=NOW), "new"], header="T")
    assert verifier.verify(WebhookRequest(headers={"T": "old"}), now=NOW - 1).key_id == "o"
    with pytest.raises(VerificationError):
        verifier.verify(WebhookRequest(headers={"T": "old"}), now=NOW)
    assert verifier.verify(WebhookRequest(headers={"T": "new"}), now=NOW).key_id == "secret[1]"
    assert verifier.sign(b"", now=NOW) == {"T": "new"}


def test_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="header"):
        TokenVerifier(secret="t")
    with pytest.raises(ConfigurationError, match="basic=True"):
        TokenVerifier(secret="t", header="T", username="u")
    with pytest.raises(ConfigurationError, match="prefix"):
        TokenVerifier(secret="t", basic=True, prefix="Bearer ")
    with pytest.raises(ConfigurationError):
        TokenVerifier(header="T")


def test_docstring_says_a_token_proves_less() -> None:
    assert "proves less than a signature" in (TokenVerifier.__doc__ or "")
