from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from webhookverify import ConfigurationError, HmacVerifier, Secret, TokenVerifier
from webhookverify.config import build_handler, load_registry
from webhookverify.testing import sign_request

TOML = """
[webhooks]
enabled = true
strict = false

[[webhooks.handlers]]
name = "tiki"
verifier = "hmac"
header = "Webhook-Signature"
encoding = "base64"
user = "admin"
secrets = [
    { value = "env:TIKI_OLD", key_id = "old", not_after = 4102444800 },
    { value = "file:tiki-new.txt", key_id = "new" },
]

[[webhooks.handlers]]
name = "stripe-like"
verifier = "hmac"
header = "Stripe-Signature"
header_format = { signature_key = "v1", timestamp_key = "t" }
template = "{timestamp}.{body}"
secret = "base64:c2VjcmV0"
replay = "content"
replay_ttl = 3600

[[webhooks.handlers]]
name = "gitlab"
verifier = "token"
header = "X-Gitlab-Token"
secret = "env:GITLAB_TOKEN"
enabled = false
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "tiki-new.txt").write_text("new-tiki-secret\n")
    path = tmp_path / "webhooks.toml"
    path.write_text(TOML.replace("file:tiki-new.txt", f"file:{tmp_path / 'tiki-new.txt'}"))
    return path


ENV = {"TIKI_OLD": "old-tiki-secret", "GITLAB_TOKEN": "glpat"}


def test_load_registry(config: Path) -> None:
    registry = load_registry(config, environ=ENV)
    assert [h.name for h in registry] == ["tiki", "stripe-like", "gitlab"]
    tiki = registry.get("tiki")
    assert tiki is not None
    assert tiki.user == "admin"
    assert isinstance(tiki.verifier, HmacVerifier)
    assert [s.key_id for s in tiki.verifier.secrets] == ["old", "new"]
    assert tiki.verifier.secrets[1].value == b"new-tiki-secret"
    signed = sign_request(
        HmacVerifier(secret="new-tiki-secret", header="Webhook-Signature", encoding="base64")
    )
    match = registry.verify(signed)
    assert match.handler is tiki
    assert match.verification.key_id == "new"
    stripe = registry.get("stripe-like")
    assert stripe is not None
    assert stripe.verifier.secrets[0].value == b"secret"  # type: ignore[attr-defined]
    assert stripe.replay == "content"
    assert stripe.replay_ttl == 3600
    gitlab = registry.get("gitlab")
    assert gitlab is not None
    assert isinstance(gitlab.verifier, TokenVerifier)
    assert not gitlab.enabled


def test_mapping_source_and_access_switch() -> None:
    registry = load_registry(
        {
            "webhooks": {
                "enabled": False,
                "handlers": [{"name": "a", "verifier": "token", "header": "T", "secret": "x"}],
            }
        }
    )
    assert not registry.enabled


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"verifier": "rot13"}, "unknown verifier 'rot13'"),
        ({"preset": "nope", "verifier": None}, "unknown preset 'nope'"),
        ({"verifier": None}, "exactly one of preset"),
        ({"name": None}, "needs a name"),
        ({"secret": "env:MISSING_VAR"}, "MISSING_VAR, which is not set"),
        ({"secret": "file:/nonexistent/secret"}, "cannot be read"),
        ({"secret": ""}, "empty"),
        ({"secret": 5}, "must be a string"),
        ({"secret": None, "secrets": [{"key_id": "x"}]}, "value is missing"),
        ({"secret": None, "secrets": [{"value": "a", "colour": "red"}]}, "not colour"),
        ({"algorithm": "md5"}, "algorithm='md5'"),
        ({"colour": "red"}, "colour"),
        ({"replay": "sometimes"}, "replay="),
        ({"secret": "hex:zz"}, "hex"),
    ],
)
def test_each_mistake_is_one_line_naming_the_handler(change: dict[str, Any], match: str) -> None:
    item: dict[str, Any] = {"name": "shop", "verifier": "hmac", "header": "S", "secret": "s"}
    for key, value in change.items():
        if value is None:
            item.pop(key, None)
        else:
            item[key] = value
    with pytest.raises(ConfigurationError, match=match) as info:
        load_registry({"webhooks": {"handlers": [item]}}, environ={})
    message = str(info.value)
    assert "\n" not in message
    assert "handlers[0]" in message


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("not [ toml", "not valid TOML"),
        ("[webhooks]\nhandlers = []", "no handlers"),
        ("[webhooks]\ncolour = 1\n[[webhooks.handlers]]\nname='a'", "unknown setting"),
        ("webhooks = 3", "must be a table"),
        (
            "[webhooks]\nenabled = 'yes'\n[[webhooks.handlers]]\nname='a'\nverifier='token'\nheader='T'\nsecret='x'",
            "true or false",
        ),
        ("[webhooks]\nhandlers = [1]", "must be a table"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=match):
        load_registry(path)


def test_missing_file() -> None:
    with pytest.raises(ConfigurationError, match="no such configuration file"):
        load_registry("/nonexistent/webhooks.toml")


def test_duplicate_names() -> None:
    item = {"name": "a", "verifier": "token", "header": "T", "secret": "x"}
    with pytest.raises(ConfigurationError, match="unique"):
        load_registry({"handlers": [item, dict(item)]})


def test_build_handler_with_secret_objects() -> None:
    handler = build_handler(
        {
            "name": "x",
            "verifier": "hmac",
            "header": "S",
            "secret": {"value": "hex:6869", "key_id": "k"},
        }
    )
    secret = handler.verifier.secrets[0]  # type: ignore[attr-defined]
    assert isinstance(secret, Secret)
    assert secret.value == b"hi"
    assert secret.key_id == "k"
