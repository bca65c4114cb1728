from __future__ import annotations

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

    def test_from_joined(self) -> None:
        headers = Headers.from_joined("X-A x-a Host", "1\n2\nexample.test", 3)
        assert headers == Headers([("X-A", "1"), ("x-a", "2"), ("Host", "example.test")])
        assert headers.get_all("x-A") == ("1", "2")
        assert len(Headers.from_joined("", "", 0)) == 0
        for names, values, count in (
            ("X-A", "1\n2", 1),  # more values than names
            ("X-A X-B", "1", 2),  # fewer
            ("X-A  X-B", "1\n2", 2),  # an empty name
            ("X:A", "1", 1),
            ("X-A", "\x00", 1),
        ):
            with pytest.raises(InvalidRequest):
                Headers.from_joined(names, values, count)

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
