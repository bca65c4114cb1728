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
allow_inline_secrets = true

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
                "allow_inline_secrets": True,
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
        load_registry({"webhooks": {"allow_inline_secrets": True, "handlers": [item]}}, environ={})
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
        load_registry({"allow_inline_secrets": True, "handlers": [item, dict(item)]})


def test_build_handler_with_secret_objects() -> None:
    handler = build_handler(
        {
            "name": "x",
            "verifier": "hmac",
            "header": "S",
            "secret": {"value": "hex:6869", "key_id": "k"},
        },
        allow_inline_secrets=True,
    )
    secret = handler.verifier.secrets[0]  # type: ignore[attr-defined]
    assert isinstance(secret, Secret)
    assert secret.value == b"hi"
    assert secret.key_id == "k"


# -- secrets that are variable names, and secrets written in the file -----------------

GITHUB = {"name": "github", "preset": "github"}


def _load(item: dict[str, Any], **top: Any) -> Any:
    return load_registry({"webhooks": {**top, "handlers": [item]}}, environ={"OLD_KEY": "old"})


def _one_line(info: pytest.ExceptionInfo[ConfigurationError]) -> str:
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("configuration: handlers[0] 'github': ")
    return message


@pytest.mark.parametrize("allowed", [False, True])
@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("secret", "GITHUB_WEBHOOK_SECRET"),
        ("secret", "$GITHUB_WEBHOOK_SECRET"),
        ("secret", "${GITHUB_WEBHOOK_SECRET}"),
        ("secret", "%GITHUB_WEBHOOK_SECRET%"),
        ("secret", "$env:GITHUB_WEBHOOK_SECRET"),
        ("secret", "${{ secrets.GITHUB_WEBHOOK_SECRET }}"),
        ("secret", "{{ GITHUB_WEBHOOK_SECRET }}"),
        ("secret", "base64:GITHUB_WEBHOOK_SECRET"),
        ("secret", {"value": "$GITHUB_WEBHOOK_SECRET", "key_id": "2026"}),
        ("secrets[1]", ["env:OLD_KEY", "${GITHUB_WEBHOOK_SECRET}"]),
    ],
)
def test_a_variable_written_as_the_secret_is_refused(
    setting: str, value: Any, allowed: bool
) -> None:
    key = setting.partition("[")[0]
    with pytest.raises(ConfigurationError, match="looks like an environment variable") as info:
        _load({**GITHUB, key: value}, **({"allow_inline_secrets": True} if allowed else {}))
    message = _one_line(info)
    assert f"{setting} looks like an environment variable, not a key" in message
    assert f'write {setting} = "env:GITHUB_WEBHOOK_SECRET"' in message


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("$GitHubSecret", "GitHubSecret"),
        ("%AppData_Key%", "AppData_Key"),
        ("{{ .Values.key }}", "key"),
    ],
)
def test_the_refusal_names_the_variable_referred_to(value: str, name: str) -> None:
    with pytest.raises(ConfigurationError, match="looks like an environment variable") as info:
        _load({**GITHUB, "secret": value}, allow_inline_secrets=True)
    assert f'write secret = "env:{name}"' in _one_line(info)


@pytest.mark.parametrize(
    "value",
    [
        "test_secret",  # lower case: a test key, not a variable's name
        "Secret_Key_2026",
        "ABCDEF0123456789ABCDEF",  # upper-case hex
        "JBSWY3DPEHPK3PXPJBSWY3DP",  # base32
        "$5ecret!",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "kq_Zp0Vd-8sTm3cXo9Lw2Q",
    ],
)
def test_keys_that_merely_resemble_names_are_accepted_inline(value: str) -> None:
    registry = _load({**GITHUB, "secret": value}, allow_inline_secrets=True)
    assert registry.get("github") is not None


def test_raw_takes_the_text_literally() -> None:
    registry = _load(
        {**GITHUB, "secrets": ["raw:GITHUB_WEBHOOK_SECRET", "raw:base64:c2VjcmV0"]},
        allow_inline_secrets=True,
    )
    verifier = registry.get("github").verifier  # type: ignore[union-attr]
    assert [s.value for s in verifier.secrets] == [b"GITHUB_WEBHOOK_SECRET", b"base64:c2VjcmV0"]
    with pytest.raises(ConfigurationError, match="written in the configuration itself"):
        _load({**GITHUB, "secret": "raw:GITHUB_WEBHOOK_SECRET"})
    with pytest.raises(ConfigurationError, match="secret is empty"):
        _load({**GITHUB, "secret": "raw:"}, allow_inline_secrets=True)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("secret", "a-real-key-of-enough-bytes"),
        ("secret", "hex:6869"),
        ("secret", "base64:c2VjcmV0"),
        ("secret", {"value": "a-real-key-of-enough-bytes", "key_id": "2026"}),
        ("secrets[1]", ["env:GITHUB_WEBHOOK_SECRET", "a-real-key-of-enough-bytes"]),
    ],
)
def test_an_inline_secret_needs_allow_inline_secrets(setting: str, value: Any) -> None:
    item = {**GITHUB, setting.partition("[")[0]: value}
    environ = {"GITHUB_WEBHOOK_SECRET": "from-the-environment"}
    with pytest.raises(ConfigurationError, match="written in the configuration itself") as info:
        load_registry({"webhooks": {"handlers": [item]}}, environ=environ)
    message = _one_line(info)
    assert f"{setting} is written in the configuration itself" in message
    assert f'{setting} = "env:NAME" or "file:PATH"' in message
    assert "set allow_inline_secrets = true in [webhooks]" in message
    registry = load_registry(
        {"webhooks": {"allow_inline_secrets": True, "handlers": [item]}}, environ=environ
    )
    assert registry.get("github") is not None


def test_an_inline_private_key_needs_allow_inline_secrets_and_a_public_key_does_not() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw().hex()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    item = {"name": "github", "verifier": "public_key", "algorithm": "ed25519", "header": "Sig"}
    assert _load({**item, "public_key": "hex:" + public}).get("github") is not None
    with pytest.raises(ConfigurationError, match="private_key is written in the configuration"):
        _load({**item, "public_key": "hex:" + public, "private_key": private})


def test_allow_inline_secrets_is_a_file_wide_switch() -> None:
    with pytest.raises(ConfigurationError, match="allow_inline_secrets must be true or false"):
        _load({**GITHUB, "secret": "k"}, allow_inline_secrets="yes")
    with pytest.raises(ConfigurationError, match="belongs in \\[webhooks\\], not in a handler"):
        _load({**GITHUB, "secret": "k", "allow_inline_secrets": True})


@pytest.mark.parametrize(
    "value",
    ["env:$GITHUB_WEBHOOK_SECRET", "env:${GITHUB_WEBHOOK_SECRET}", "env:%GITHUB_WEBHOOK_SECRET%"],
)
def test_env_takes_a_bare_name(value: str) -> None:
    with pytest.raises(ConfigurationError, match="takes the bare variable name") as info:
        load_registry(
            {"handlers": [{**GITHUB, "secret": value}]},
            environ={"GITHUB_WEBHOOK_SECRET": "k", value[4:]: "k"},
        )
    assert 'write secret = "env:GITHUB_WEBHOOK_SECRET"' in _one_line(info)


def test_a_file_path_is_not_expanded_and_says_so() -> None:
    with pytest.raises(ConfigurationError, match="not expanded in a file: path"):
        load_registry(
            {"handlers": [{**GITHUB, "secret": "file:$CREDENTIALS_DIRECTORY/github"}]}, environ={}
        )


def test_a_variable_read_from_the_environment_is_taken_as_given() -> None:
    """The environment's value is the key even when it looks like a name: check warns."""
    registry = load_registry(
        {"handlers": [{**GITHUB, "secret": "env:GITHUB_WEBHOOK_SECRET"}]},
        environ={"GITHUB_WEBHOOK_SECRET": "${GITHUB_WEBHOOK_SECRET}"},
    )
    verifier = registry.get("github").verifier  # type: ignore[union-attr]
    assert verifier.secrets[0].value == b"${GITHUB_WEBHOOK_SECRET}"


def test_inline_secrets_lists_what_the_file_holds(config: Path) -> None:
    from webhookverify.config import inline_secrets

    assert inline_secrets(config) == [("stripe-like", "secret")]
    mapping = {
        "handlers": [
            {"name": "a", "secrets": ["env:A", {"value": "hex:00"}, "file:/k"]},
            {"name": "b", "public_key": "hex:00", "private_key": "raw:k", "secret": "env:B"},
        ]
    }
    assert inline_secrets(mapping) == [("a", "secrets[1]"), ("b", "private_key")]


# -- remedies that name the fix ------------------------------------------------------


def test_an_unset_variable_says_which_and_how_to_set_it() -> None:
    with pytest.raises(ConfigurationError) as info:
        load_registry({"handlers": [{**GITHUB, "secret": "env:GITHUB_WEBHOOK_SECRET"}]}, environ={})
    message = _one_line(info)
    assert (
        "secret reads the environment variable GITHUB_WEBHOOK_SECRET, which is not set" in message
    )
    assert "export GITHUB_WEBHOOK_SECRET='...'" in message
    assert info.value.remedy is not None
    assert info.value.remedy.startswith("export GITHUB_WEBHOOK_SECRET='...'")


def test_a_mistake_in_the_file_has_no_outside_remedy() -> None:
    with pytest.raises(ConfigurationError) as info:
        _load({**GITHUB, "secret": "inline-but-not-allowed"})
    assert info.value.remedy is None


@pytest.mark.parametrize(
    ("item", "top", "hint"),
    [
        (
            {"name": "github", "preset": "stripe", "secret": "s", "tolerence": 60},
            {},
            "unknown setting 'tolerence'; did you mean 'tolerance'?",
        ),
        (
            {"name": "github", "verifier": "hmac", "header": "S", "secret": "s", "tolerence": 60},
            {},
            "did you mean 'tolerance'?",
        ),
        (
            {"name": "github", "verifier": "hmac", "secret": "s", "heder": "S"},
            {},
            "did you mean 'header'?",
        ),
        (
            {"name": "github", "preset": "stripe", "secret": "s", "usr": "x"},
            {},
            "did you mean 'user'?",
        ),
        (
            {"name": "github", "preset": "githb", "secret": "s"},
            {},
            "unknown preset 'githb'; did you mean 'github'?",
        ),
        (
            {"name": "github", "verifier": "hmc", "secret": "s"},
            {},
            "unknown verifier 'hmc'; did you mean 'hmac'?",
        ),
        ({**GITHUB, "secrets": [{"value": "s", "not_afer": 1}]}, {}, "did you mean 'not_after'?"),
        (
            {**GITHUB, "secret": "s"},
            {"allow_inline_secret": True},
            "in [webhooks]; did you mean 'allow_inline_secrets'?",
        ),
    ],
)
def test_a_misspelt_name_is_answered_with_the_nearest(
    item: dict[str, Any], top: dict[str, Any], hint: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_registry({"webhooks": {"allow_inline_secrets": True, **top, "handlers": [item]}})
    message = str(info.value)
    assert "\n" not in message
    assert message.endswith(hint)


def test_a_name_near_nothing_gets_the_list_not_a_guess() -> None:
    item = {**GITHUB, "secret": "s", "colour": "red"}
    with pytest.raises(ConfigurationError) as info:
        _load(item, allow_inline_secrets=True)
    message = _one_line(info)
    assert "did you mean" not in message
    assert message.endswith(
        "unknown setting 'colour'; the settings here are enabled, legacy_sha1, name, preset, "
        "replay, replay_ttl, secret, secrets, user, verifier"
    )
    with pytest.raises(
        ConfigurationError, match="; known presets: airtable, aws_sns, bandwidth, bitbucket, box,"
    ) as preset:
        _load({**GITHUB, "preset": "qqqq", "secret": "s"}, allow_inline_secrets=True)
    assert "did you mean" not in str(preset.value)


def test_the_file_is_checked_before_its_variables_are_read() -> None:
    """A misspelt preset is the mistake to report, not the variable it would have read."""
    with pytest.raises(ConfigurationError, match="did you mean 'github'"):
        load_registry(
            {"handlers": [{**GITHUB, "preset": "githb", "secret": "env:UNSET"}]}, environ={}
        )


def test_load_handler_builds_only_that_handler() -> None:
    from webhookverify.config import load_handler

    source = {
        "handlers": [
            {"name": "gitlab", "verifier": "token", "header": "T", "secret": "env:GITLAB_TOKEN"},
            {**GITHUB, "secret": "env:GITHUB_WEBHOOK_SECRET", "user": "ci"},
        ]
    }
    handler = load_handler(source, "github", environ={"GITHUB_WEBHOOK_SECRET": "s" * 20})
    assert (handler.name, handler.user) == ("github", "ci")
    with pytest.raises(ConfigurationError, match="GITLAB_TOKEN, which is not set"):
        load_handler(source, "gitlab", environ={})
    with pytest.raises(
        ConfigurationError, match=r"no handler named 'githb'; did you mean 'github'\?$"
    ):
        load_handler(source, "githb", environ={})
    with pytest.raises(ConfigurationError, match="unknown setting"):
        load_handler({**source, "colour": 1}, "github", environ={"GITHUB_WEBHOOK_SECRET": "s"})
