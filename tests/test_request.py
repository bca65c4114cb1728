from __future__ import annotations

import copy
import pickle
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webhookverify import Headers, InvalidRequest, MalformedBody, WebhookRequest


class TestHeaders:
    def test_case_insensitive_and_repeated(self) -> None:
        headers = Headers([("X-Sig", "a"), ("x-sig", "b"), ("Content-Type", "text/plain")])
        assert headers["X-SIG"] == "a"
        assert headers.get("x-Sig") == "a"
        assert headers.get_all("X-Sig") == ("a", "b")
        assert headers.get("missing") is None
        assert headers.get("missing", "d") == "d"
        assert list(headers) == ["X-Sig", "Content-Type"]
        assert len(headers) == 2
        assert "content-type" in headers
        assert headers.raw_items()[1] == ("x-sig", "b")

    def test_from_mapping_and_bytes(self) -> None:
        assert Headers({"A": "1"})["a"] == "1"
        assert Headers([(b"A", b"\xe9")])["a"] == "\xe9"  # latin-1, as HTTP defines

    @pytest.mark.parametrize("value", ["a\r\nb", "a\nb", "nul\x00", "\x7f", "€uro"])
    def test_bad_values_refused(self, value: str) -> None:
        with pytest.raises(InvalidRequest, match="control characters"):
            Headers({"X-Sig": value})

    @pytest.mark.parametrize("name", ["", "a b", "x:y", "é"])
    def test_bad_names_refused(self, name: str) -> None:
        with pytest.raises(InvalidRequest, match="field name"):
            Headers({name: "v"})

    @pytest.mark.parametrize("byte", range(256))
    def test_each_byte_is_taken_as_rfc_9110_says(self, byte: int) -> None:
        """The one-pass check of all fields takes a byte in a name or a value,
        as bytes or as latin-1 text, in the middle of others, exactly when the
        RFC's grammar does (§5.1 token, §5.5 field-value)."""
        char = chr(byte)
        in_token = bool(re.fullmatch(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]", char))
        in_value = bool(re.fullmatch(r"[\t\x20-\x7e\x80-\xff]", char))
        for name, value, allowed in (
            ("x" + char + "y", "v", in_token),
            ("X", f"a{char}b", in_value),
        ):
            for pairs in (
                [("A", "1"), (name, value)],
                [(b"A", b"1"), (name.encode("latin-1"), value.encode("latin-1"))],
            ):
                if allowed:
                    assert Headers(pairs).get_all(name) == (value,)
                else:
                    with pytest.raises(InvalidRequest):
                        Headers(pairs)

    def test_not_pairs(self) -> None:
        with pytest.raises(InvalidRequest, match="pairs"):
            Headers([("a", "b", "c")])  # type: ignore[list-item]
        with pytest.raises(InvalidRequest, match="str or bytes"):
            Headers({"a": 1})  # type: ignore[dict-item]

    @given(
        st.lists(
            st.tuples(
                st.from_regex(r"[A-Za-z0-9-]{1,20}", fullmatch=True),
                st.text(
                    alphabet=st.characters(
                        min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"
                    ),
                    max_size=50,
                ),
            ),
            max_size=20,
        )
    )
    def test_property_round_trip(self, pairs: list[tuple[str, str]]) -> None:
        headers = Headers(pairs)
        for name, _ in pairs:
            assert headers.get_all(name) == tuple(v for n, v in pairs if n.lower() == name.lower())


class TestWebhookRequest:
    def test_bytes_like_bodies_copied(self) -> None:
        buffer = bytearray(b"abc")
        request = WebhookRequest(body=buffer)
        buffer[0] = 0
        assert request.body == b"abc"
        assert WebhookRequest(body=memoryview(b"xyz")).body == b"xyz"

    def test_str_body_needs_encoding(self) -> None:
        with pytest.raises(InvalidRequest, match="encoding"):
            WebhookRequest(body="text")
        assert WebhookRequest(body="é", encoding="utf-8").body == b"\xc3\xa9"
        with pytest.raises(InvalidRequest):
            WebhookRequest(body="é", encoding="ascii")
        with pytest.raises(InvalidRequest):
            WebhookRequest(body="x", encoding="no-such-codec")

    @pytest.mark.parametrize("parsed", [{"a": 1}, [1, 2], 3, None])
    def test_parsed_body_refused_with_hint(self, parsed: object) -> None:
        with pytest.raises(InvalidRequest, match="raw bytes"):
            WebhookRequest(body=parsed)  # type: ignore[arg-type]

    def test_immutable_and_replace(self) -> None:
        request = WebhookRequest(method="post", url="https://x.test/", body=b"a", received_at=5)
        assert request.method == "POST"
        assert request.received_at == 5.0
        with pytest.raises(AttributeError):
            request.body = b"b"  # type: ignore[misc]
        other = request.replace(body=b"b")
        assert other.body == b"b" and other.url == request.url
        assert other != request and request.replace() == request
        assert "1 bytes" in repr(request)

    @pytest.mark.parametrize(
        "url",
        ["https://x.test/" + chr(0xDC80), "https://x.test/" + chr(0xD800), b"https://x.test/"],
    )
    def test_url_must_be_encodable_text(self, url: object) -> None:
        with pytest.raises(InvalidRequest, match="url"):
            WebhookRequest(url=url)  # type: ignore[arg-type]

    @pytest.mark.parametrize("method", ["", "PO ST", "GET\r\n", 5])
    def test_method_must_be_a_token(self, method: object) -> None:
        with pytest.raises(InvalidRequest, match="method"):
            WebhookRequest(method=method)  # type: ignore[arg-type]

    def test_received_at_defaults_to_now_and_is_checked(self) -> None:
        assert WebhookRequest().received_at > 1_600_000_000
        with pytest.raises(InvalidRequest):
            WebhookRequest(received_at="now")  # type: ignore[arg-type]

    def test_form(self) -> None:
        request = WebhookRequest(body=b"b=2&a=1&a=&c=%C3%A9")
        assert request.form() == [("b", "2"), ("a", "1"), ("a", ""), ("c", "é")]
        assert WebhookRequest(body=b"").form() == []
        for bad in (b"\xff=1", b"a=%FF", b"novalue"):
            with pytest.raises(MalformedBody):
                WebhookRequest(body=bad).form()


# -- the fast paths adapters take: each must build exactly what the general path builds --

_HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


class TestHeadersFastPaths:
    @pytest.mark.parametrize(
        "value",
        ["tab\there", "\x80\x9f obs-text", "nbsp\xa0", "soft\xadhyphen", "\xff", "", " "],
    )
    def test_values_outside_printable_ascii_take_the_full_check(self, value: str) -> None:
        assert Headers({"X-V": value, "Y": "plain"}).get("x-v") == value

    @given(
        st.lists(
            st.text(
                alphabet=st.characters(min_codepoint=0, max_codepoint=0x17F),
                max_size=12,
            ),
            min_size=1,
            max_size=5,
        )
    )
    def test_property_values_accepted_exactly_as_rfc_9110_allows(self, values: list[str]) -> None:
        pairs = [(f"X-{i}", value) for i, value in enumerate(values)]
        allowed = all(_HEADER_VALUE.fullmatch(value) for value in values)
        try:
            headers = Headers(pairs)
        except InvalidRequest:
            assert not allowed
        else:
            assert allowed
            assert headers.raw_items() == tuple(pairs)

    @given(
        st.lists(
            st.tuples(
                st.from_regex(r"[A-Za-z0-9-]{1,8}", fullmatch=True), st.text("abc", max_size=3)
            ),
            min_size=1,
            max_size=80,  # a few dozen fields, as senders send, and more
        )
    )
    def test_property_index_is_every_value_by_lower_cased_name(
        self, pairs: list[tuple[str, str]]
    ) -> None:
        expected: dict[str, tuple[str, ...]] = {}
        for name, value in pairs:
            expected[name.lower()] = (*expected.get(name.lower(), ()), value)
        headers = Headers(pairs)
        assert headers.by_name == expected
        assert headers.raw_items() == tuple(pairs)
        assert len(headers) == len(expected)
        assert headers.size == sum(len(n) + len(v) for n, v in pairs)

    def test_copy_hash_and_repr_keep_the_fields_as_received(self) -> None:
        headers = Headers([("X-A", "1"), ("x-a", "2")])
        copy = Headers(headers)
        assert copy == headers and hash(copy) == hash(headers)
        assert copy.raw_items() == (("X-A", "1"), ("x-a", "2"))
        shown = Headers([("Content-Type", "text/plain"), ("X-Request-Id", "r1")])
        assert repr(shown) == "Headers([('Content-Type', 'text/plain'), ('X-Request-Id', 'r1')])"
        assert repr(headers) == "Headers([('X-A', '<hidden>'), ('x-a', '<hidden>')])"
        assert hash(Headers()) == hash(Headers([]))


class TestWebhookRequestChecks:
    @pytest.mark.parametrize(
        ("method", "stored"),
        [("POST", "POST"), ("patch", "PATCH"), ("PropFind", "PROPFIND"), ("M-SEARCH", "M-SEARCH")],
    )
    def test_methods_standard_or_not_are_upper_cased(self, method: str, stored: str) -> None:
        assert WebhookRequest(method=method).method == stored

    def test_method_str_subclass_is_checked_and_stored_as_str(self) -> None:
        class Method(str):
            pass

        request = WebhookRequest(method=Method("post"))
        assert request.method == "POST" and type(request.method) is str
        with pytest.raises(InvalidRequest, match="method"):
            WebhookRequest(method=Method("PO ST"))

    def test_received_at_is_stored_as_float(self) -> None:
        class Seconds(float):
            pass

        assert type(WebhookRequest(received_at=7).received_at) is float
        assert type(WebhookRequest(received_at=Seconds(7.5)).received_at) is float
        with pytest.raises(InvalidRequest, match="received_at"):
            WebhookRequest(received_at=True)

    def test_pickle_and_copy(self) -> None:
        request = WebhookRequest(
            "POST", "https://x.test/", [("X-A", "1"), ("x-a", "2")], b"{}", 5.0, "10.0.0.1"
        )
        for copied in (
            pickle.loads(pickle.dumps(request)),
            copy.copy(request),
            copy.deepcopy(request),
        ):
            assert copied == request and copied is not request
            assert copied.headers.raw_items() == (("X-A", "1"), ("x-a", "2"))
            with pytest.raises(AttributeError):
                copied.url = "https://y.test/"  # type: ignore[misc]

    def test_non_ascii_url_is_kept(self) -> None:
        assert WebhookRequest(url="https://x.test/é").url == "https://x.test/é"


class TestLazyUrl:
    """Adapters pass the URL as a function: it is built on first read, once."""

    def test_built_once_on_first_read_and_equal_to_a_str_url(self) -> None:
        calls: list[int] = []

        def build() -> str:
            calls.append(1)
            return "https://x.test/hook?a=1"

        lazy = WebhookRequest("POST", build, {"X-Sig": "abc"}, b"{}", 1.0, "10.0.0.1")
        assert calls == []
        assert lazy.url == "https://x.test/hook?a=1" and lazy.url == lazy.url
        assert calls == [1]
        assert lazy == WebhookRequest(
            "POST", "https://x.test/hook?a=1", {"X-Sig": "abc"}, b"{}", 1.0, "10.0.0.1"
        )
        assert pickle.loads(pickle.dumps(lazy)).url == lazy.url
        with pytest.raises(AttributeError):
            lazy.url = "https://y.test/"  # type: ignore[misc]

    def test_a_built_url_is_checked_as_a_given_one(self) -> None:
        lazy = WebhookRequest(url=lambda: "https://x.test/" + chr(0xDC80))
        with pytest.raises(InvalidRequest, match="url"):
            _ = lazy.url
