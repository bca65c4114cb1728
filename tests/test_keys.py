from __future__ import annotations

import pickle

import pytest

from webhookverify import ConfigurationError, Secret, parse_secret
from webhookverify.keys import to_secrets


def test_repr_and_str_hide_material() -> None:
    secret = Secret("hunter2-is-my-password", key_id="primary")
    for text in (repr(secret), str(secret), f"{secret}", repr([secret])):
        assert "hunter2" not in text
        assert "primary" in text


def test_constructors() -> None:
    assert Secret("abc").value == b"abc"
    assert Secret(b"\x00\x01").value == b"\x00\x01"
    assert Secret.from_hex("0A0b").value == b"\x0a\x0b"
    assert Secret.from_base64("aGVsbG8=").value == b"hello"
    assert Secret.from_base64("aGVsbG8").value == b"hello"
    assert Secret.from_base64("-_8").value == b"\xfb\xff"
    assert (
        Secret.from_whsec("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").value.hex().startswith("31f2")
    )
    assert parse_secret("whsec_aGVsbG8=").value == b"hello"
    assert parse_secret("base64:aGVsbG8=").value == b"hello"
    assert parse_secret("hex:6869").value == b"hi"
    assert parse_secret("raw:hex:6869").value == b"hex:6869"
    assert parse_secret("plain text").value == b"plain text"


@pytest.mark.parametrize(
    "build",
    [
        lambda: Secret(""),
        lambda: Secret(b""),
        lambda: Secret.from_hex("xyz"),
        lambda: Secret.from_base64("!!!"),
        lambda: Secret.from_whsec("nope"),
        lambda: Secret("k", not_before=10, not_after=10),
        lambda: Secret("k", not_before=10, not_after=5),
        lambda: Secret("k", not_after=float("nan")),
        lambda: Secret("k", not_before=True),
        lambda: Secret(123),  # type: ignore[arg-type]
        lambda: parse_secret(5),  # type: ignore[arg-type]
    ],
)
def test_bad_secrets_fail_at_construction(build: object) -> None:
    with pytest.raises(ConfigurationError):
        build()  # type: ignore[operator]


def test_window() -> None:
    secret = Secret("k", not_before=100, not_after=200)
    assert not secret.is_valid_at(99.9)
    assert secret.is_valid_at(100)
    assert secret.is_valid_at(199.9)
    assert not secret.is_valid_at(200)
    assert Secret("k").is_valid_at(0)


def test_immutable_unpicklable_comparable() -> None:
    secret = Secret("k", key_id="a")
    with pytest.raises(AttributeError):
        secret.key_id = "b"  # type: ignore[misc]
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert secret == Secret("k", key_id="a")
    assert secret != Secret("k", key_id="b")
    assert len({secret, Secret("k", key_id="a")}) == 1
    assert len(secret.fingerprint()) == 8


def test_to_secrets() -> None:
    assert [s.value for s in to_secrets(None, ["a", b"b", Secret("c")], owner="X")] == [
        b"a",
        b"b",
        b"c",
    ]
    with pytest.raises(ConfigurationError, match="secret= or secrets="):
        to_secrets(None, None, owner="X")
    with pytest.raises(ConfigurationError, match="not both"):
        to_secrets("a", ["b"], owner="X")
    with pytest.raises(ConfigurationError, match="a list"):
        to_secrets(None, "abc", owner="X")
    with pytest.raises(ConfigurationError):
        to_secrets(None, [], owner="X")
    with pytest.raises(ConfigurationError):
        to_secrets(None, [3], owner="X")  # type: ignore[list-item]
