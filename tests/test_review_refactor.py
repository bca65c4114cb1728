"""Regression tests found by reviewing the code-size refactor of the request
path against the code before it (same inputs through both)."""

from __future__ import annotations

import pytest

from webhookverify import ConfigurationError
from webhookverify.redis_store import RedisReplayStore

PASSWORD = "s3cr3t-Pa55w0rd"


@pytest.mark.parametrize(
    "url",
    [
        f"unix://user:{PASSWORD}/run/redis.sock",  # the "@" before the path forgotten
        f"unix://:{PASSWORD}",
        f"unix://redis:{PASSWORD}:x/run/redis.sock",
    ],
)
def test_a_unix_url_with_a_password_missing_its_at_sign_is_refused_unshown(url: str) -> None:
    # redis reads no host or port in a unix:// URL, so it accepts these; the
    # text after "host:" is no port, and shown in repr() and in every
    # ReplayStoreUnavailable message it would put the password in the logs.
    with pytest.raises(ConfigurationError, match=r"RedisReplayStore\(url=") as refused:
        RedisReplayStore(url)
    assert PASSWORD not in str(refused.value)


def test_a_unix_url_with_its_credentials_still_works_and_is_redacted() -> None:
    store = RedisReplayStore(f"unix://user:{PASSWORD}@/run/redis.sock?db=3")
    assert repr(store) == "RedisReplayStore('unix://***@/run/redis.sock?db=3', prefix='')"
    assert "localhost:6379" in repr(RedisReplayStore("unix://localhost:6379/run/redis.sock"))


@pytest.mark.parametrize(
    "url",
    [
        "redis://:12/34@host",  # password "12/34": urlsplit reads port 12 and a path
        "redis://user:1/pw@host:6379/0",
        "unix://:12/34@/run/redis.sock",
        "rediss://:0/x@host?db=1",
    ],
)
def test_a_password_with_an_unencoded_slash_is_refused_unshown(url: str) -> None:
    # The "/" ends the authority, so the credentials' "@" lands in the path:
    # a redaction that looks for it in the authority alone showed the rest.
    with pytest.raises(ConfigurationError, match="percent-encode") as refused:
        RedisReplayStore(url)
    secret = url.split("//", 1)[1].rpartition("@")[0]
    assert secret.rpartition("/")[2] not in str(refused.value)
