"""The request path's shortcuts in the verifiers agree with the plain path.

``split_list`` skips the split and the map when the header holds one
signature; ``parse_timestamp`` reads digits with ``float`` rather than
``int``; ``constant_time_equal`` is ``hmac.compare_digest`` itself;
``hmac_digest`` starts from the key's prepared pads, not an ``hmac`` object.
"""

from __future__ import annotations

import hmac

import pytest

from webhookverify import MalformedHeader, MalformedTimestamp
from webhookverify.verifiers._base import (
    MAX_SIGNATURES,
    MAX_TIMESTAMP_DIGITS,
    constant_time_equal,
    parse_timestamp,
)
from webhookverify.verifiers._headers import split_list
from webhookverify.verifiers.hmac import ALGORITHMS, hmac_digest, hmac_key


@pytest.mark.parametrize(
    "value",
    [
        "v1,abc",
        " v1,abc\t",
        "v1,abc v1,def",
        "v1,abc  v1,def ",
        "\tv1,abc \xa0v1,def",
        "",
        " ",
        "v1,abc,v1,def",
    ],
)
@pytest.mark.parametrize("delimiter", [" ", ","])
def test_split_list_equals_splitting_and_stripping_every_entry(value: str, delimiter: str) -> None:
    assert split_list(value, delimiter, "X-Sig") == [e.strip() for e in value.split(delimiter)]


def test_split_list_still_refuses_too_many_signatures() -> None:
    assert len(split_list(" ".join(["v1,a"] * MAX_SIGNATURES), " ", "X-Sig")) == MAX_SIGNATURES
    with pytest.raises(MalformedHeader, match="X-Sig header has too many signatures"):
        split_list(" ".join(["v1,a"] * (MAX_SIGNATURES + 1)), " ", "X-Sig")


@pytest.mark.parametrize(
    "text",
    ["0", "1", "0001700000000", "1700000000", "1700000000123", "9" * MAX_TIMESTAMP_DIGITS],
)
def test_parse_timestamp_reads_digits_exactly(text: str) -> None:
    assert parse_timestamp(text, "unix", "X-Ts") == float(int(text))
    assert parse_timestamp(text, "unix_ms", "X-Ts") == int(text) / 1000.0


@pytest.mark.parametrize(
    "text",
    ["1e9", "inf", "nan", "1_700", "+17", "17.0", " 17", "\uff11\uff17", "", "9" * 15],
)
def test_parse_timestamp_refuses_what_float_alone_would_read(text: str) -> None:
    for fmt in ("unix", "unix_ms"):
        with pytest.raises(MalformedTimestamp, match="X-Ts"):
            parse_timestamp(text, fmt, "X-Ts")  # type: ignore[arg-type]


def test_constant_time_equal_is_the_stdlib_comparison() -> None:
    assert constant_time_equal is hmac.compare_digest
    assert constant_time_equal(b"abc", b"abc") and not constant_time_equal(b"abc", b"abd")
    assert constant_time_equal("abc", "abc") and not constant_time_equal("abc", "ab")


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
@pytest.mark.parametrize("key_length", [0, 1, 24, 63, 64, 65, 127, 128, 129, 300])
def test_hmac_from_prepared_pads_equals_the_stdlib_hmac(algorithm: str, key_length: int) -> None:
    # keys shorter than, as long as and longer than the block (64 or 128 bytes),
    # the last hashed first (RFC 2104 §2); a message in several parts or none
    secret = (bytes(range(256)) + b"k" * 64)[:key_length]
    key = hmac_key(secret, algorithm)
    for parts in [(), (b"",), (b"msg_1.1700000000.", b"{}" * 600), (b"a", b"b", b"c" * 200)]:
        expected = hmac.new(secret, b"".join(parts), algorithm).digest()
        assert hmac_digest(key, parts) == expected
    assert hmac_digest(key, [b"once"]) == hmac_digest(key, [b"once"])  # the key is not consumed
