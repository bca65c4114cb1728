from __future__ import annotations

import threading
from typing import Any

import pytest

from webhookverify import (
    AccessDisabled,
    AmbiguousMatch,
    ConfigurationError,
    Handler,
    HandlerRegistry,
    HmacVerifier,
    NoHandlerMatched,
    SignatureMismatch,
    TokenVerifier,
    Verification,
    WebhookRequest,
)
from webhookverify.testing import sign_request
from webhookverify.types import DEFAULT_REPLAY_MODE, DEFAULT_REPLAY_WINDOW


def hmac_handler(name: str, secret: str, header: str = "Webhook-Signature", **kw: Any) -> Handler:
    return Handler(name, HmacVerifier(secret=secret, header=header, encoding="base64"), **kw)


def test_first_success_wins_in_order() -> None:
    a = hmac_handler("a", "sa", user="alice")
    b = hmac_handler("b", "sb", user="bob")
    c = hmac_handler("c", "sb", user="carol")  # same secret as b: b comes first
    registry = HandlerRegistry([a, b, c])
    request = sign_request(b.verifier, b"{}")
    match = registry.verify(request)
    assert match.handler is b
    assert match.handler.user == "bob"
    assert isinstance(match.verification, Verification)


def test_no_match_lists_every_attempt_with_reasons() -> None:
    registry = HandlerRegistry([hmac_handler("a", "sa"), hmac_handler("b", "sb")])
    request = sign_request(
        HmacVerifier(secret="other", header="Webhook-Signature", encoding="base64")
    )
    with pytest.raises(NoHandlerMatched) as info:
        registry.verify(request)
    assert info.value.attempts == (("a", "signature_mismatch"), ("b", "signature_mismatch"))
    assert [e.handler for e in info.value.errors] == ["a", "b"]


def test_handlers_without_their_headers_are_skipped_before_crypto() -> None:
    calls: list[str] = []

    class Counting:
        def __init__(self, name: str, header: str) -> None:
            self.inner = HmacVerifier(secret="s", header=header)
            self.name = name

        @property
        def required_headers(self) -> tuple[str, ...]:
            return self.inner.required_headers

        def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
            calls.append(self.name)
            return self.inner.verify(request, now)

        def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
            return self.inner.sign(body, now, **parts)

    handlers = [Handler(f"h{i}", Counting(f"h{i}", f"X-Sig-{i}")) for i in range(50)]
    registry = HandlerRegistry(handlers)
    request = sign_request(handlers[37].verifier, b"x")
    assert registry.verify(request).handler.name == "h37"
    assert calls == ["h37"]
    assert [h.name for h in registry.candidates(request)] == ["h37"]


def test_missing_everything_reports_missing_header() -> None:
    registry = HandlerRegistry([hmac_handler("a", "s")])
    with pytest.raises(NoHandlerMatched) as info:
        registry.verify(WebhookRequest(body=b""))
    assert info.value.attempts == (("a", "missing_header"),)


def test_disabled_handler_never_matches() -> None:
    off = hmac_handler("off", "s", enabled=False)
    registry = HandlerRegistry([off])
    with pytest.raises(NoHandlerMatched):
        registry.verify(sign_request(off.verifier))


def test_access_switch() -> None:
    handler = hmac_handler("a", "s")
    registry = HandlerRegistry([handler], enabled=False)
    with pytest.raises(AccessDisabled):
        registry.verify(sign_request(handler.verifier))
    registry.enabled = True
    registry.verify(sign_request(handler.verifier))


def test_strict_refuses_ambiguous_match() -> None:
    a, b = hmac_handler("a", "same"), hmac_handler("b", "same")
    request = sign_request(a.verifier)
    assert HandlerRegistry([a, b]).verify(request).handler is a
    with pytest.raises(AmbiguousMatch):
        HandlerRegistry([a, b], strict=True).verify(request)
    assert HandlerRegistry([a, hmac_handler("c", "x")], strict=True).verify(request).handler is a


def test_token_and_hmac_handlers_mix() -> None:
    token = Handler("gitlab", TokenVerifier(secret="t", header="X-Gitlab-Token"), user="ci")
    signed = hmac_handler("tiki", "s")
    registry = HandlerRegistry([signed, token])
    assert registry.verify(WebhookRequest(headers={"X-Gitlab-Token": "t"})).handler is token


def test_add_remove_replace_while_serving() -> None:
    registry = HandlerRegistry()
    handlers = [hmac_handler(f"h{i}", f"s{i}", header=f"X-S{i}") for i in range(20)]
    stop = threading.Event()
    errors: list[BaseException] = []

    def serve() -> None:
        request = sign_request(handlers[0].verifier)
        while not stop.is_set():
            try:
                registry.verify(request)
            except NoHandlerMatched:
                pass
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

    threads = [threading.Thread(target=serve) for _ in range(4)]
    for t in threads:
        t.start()
    for _ in range(20):
        for h in handlers:
            registry.add(h)
        for h in handlers:
            registry.remove(h.name)
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    registry.add(handlers[1])
    registry.add(handlers[0], position=0)
    assert [h.name for h in registry] == ["h0", "h1"]
    old = registry.replace(hmac_handler("h0", "new", header="X-S0"))
    assert old is handlers[0]
    assert len(registry) == 2
    with pytest.raises(KeyError):
        registry.remove("nope")
    with pytest.raises(KeyError):
        registry.replace(hmac_handler("nope", "s"))
    assert registry.get("h1") is handlers[1]
    assert registry.get("zzz") is None


class Counted:
    """A verifier that counts its calls and requires ``headers``."""

    def __init__(self, *headers: str) -> None:
        self.inner = HmacVerifier(secret="s", header=headers[0])
        self.required_headers = headers
        self.calls = 0

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        self.calls += 1
        return self.inner.verify(request, now)

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        return {
            **self.inner.sign(body, now, **parts),
            **dict.fromkeys(self.required_headers[1:], "1"),
        }


def test_one_handler_is_a_candidate_only_with_all_its_headers() -> None:
    """A registry of one enabled handler (an endpoint per sender) is the usual
    configuration: it must pre-filter exactly as a larger registry does."""
    verifier = Counted("X-Sig", "X-Timestamp")
    lone = Handler("lone", verifier)
    registries = [
        HandlerRegistry([lone]),
        HandlerRegistry([hmac_handler("off", "s", enabled=False), lone]),
        HandlerRegistry([lone, hmac_handler("other", "s", header="X-Other")]),
    ]
    request = sign_request(verifier, b"{}")
    without_timestamp = request.replace(
        headers={k: v for k, v in request.headers.items() if k != "X-Timestamp"}
    )
    for registry in registries:
        assert registry.candidates(request) == [lone]
        assert registry.verify(request).handler is lone
        assert registry.candidates(without_timestamp) == []
        with pytest.raises(NoHandlerMatched) as info:
            registry.verify(without_timestamp)
        assert ("lone", "missing_header") in info.value.attempts
    assert verifier.calls == len(registries)  # never called without its headers


def test_the_single_handler_shortcut_follows_every_change() -> None:
    a = hmac_handler("a", "sa", header="X-A")
    b = hmac_handler("b", "sb", header="X-B")
    registry = HandlerRegistry([a])
    request_b = sign_request(b.verifier)
    with pytest.raises(NoHandlerMatched):
        registry.verify(request_b)
    registry.add(b)
    assert registry.verify(request_b).handler is b
    registry.remove("a")
    assert registry.verify(request_b).handler is b
    registry.replace(Handler("b", b.verifier, enabled=False))
    with pytest.raises(NoHandlerMatched):
        registry.verify(request_b)


def test_match_is_an_immutable_named_pair() -> None:
    handler = hmac_handler("a", "s")
    match = HandlerRegistry([handler]).verify(sign_request(handler.verifier))
    found, verification = match
    assert found is match.handler is handler
    assert verification is match.verification
    assert verification.scheme == "hmac-sha256"
    with pytest.raises(AttributeError):
        match.handler = handler  # type: ignore[misc]


def test_broken_user_verifier_is_a_failed_check_not_a_crash(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken:
        required_headers = ("X-B",)

        def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
            raise ZeroDivisionError

        def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
            return {"X-B": "1"}

    registry = HandlerRegistry([Handler("broken", Broken())])
    with pytest.raises(NoHandlerMatched) as info:
        registry.verify(WebhookRequest(headers={"X-B": "1"}))
    assert info.value.attempts == (("broken", "verifier_error"),)
    assert "ZeroDivisionError" in caplog.text


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: Handler("", HmacVerifier(secret="s", header="S")), "name"),
        (lambda: Handler("x", object()), "verify"),  # type: ignore[arg-type]
        (lambda: Handler("x", HmacVerifier(secret="s", header="S"), replay="sometimes"), "replay"),  # type: ignore[arg-type]
        (lambda: Handler("x", HmacVerifier(secret="s", header="S"), replay_ttl=0), "replay_ttl"),
        (lambda: Handler("x", HmacVerifier(secret="s", header="S"), user=3), "user"),  # type: ignore[arg-type]
        (lambda: HandlerRegistry([hmac_handler("a", "s"), hmac_handler("a", "t")]), "unique"),
        (lambda: HandlerRegistry(["a"]), "Handler objects"),  # type: ignore[list-item]
    ],
)
def test_configuration_errors(build: Any, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        build()


def test_replay_mode_defaults_from_verifier() -> None:
    assert hmac_handler("a", "s").replay_mode == "content"
    assert Handler("t", TokenVerifier(secret="t", header="T")).replay_mode == "off"
    assert hmac_handler("a", "s", replay="off").replay_mode == "off"
    twitch = HmacVerifier(secret="s", header="S", template="{id}{body}", id_header="I")
    assert Handler("tw", twitch).replay_mode == "id"


class MinimalVerifier:
    """A user's verifier with only the members the protocol cannot do without."""

    required_headers = ("X-Token",)

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        if request.headers.get("X-Token") != "let-me-in":
            raise SignatureMismatch(header="X-Token")
        return Verification("minimal", None, signed=(request.body,))

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        return {"X-Token": "let-me-in"}


def test_a_minimal_user_verifier_gets_the_documented_defaults() -> None:
    handler = Handler("mine", MinimalVerifier())
    assert handler.replay_mode == DEFAULT_REPLAY_MODE == "content"
    assert getattr(handler.verifier, "replay_window", DEFAULT_REPLAY_WINDOW) is None
    registry = HandlerRegistry([handler, hmac_handler("other", "s")])
    match = registry.verify(sign_request(handler.verifier, b"{}"))
    assert match.handler is handler and match.verification.scheme == "minimal"
    assert registry.candidates(WebhookRequest(headers={"x-token": "no"})) == [handler]
    with pytest.raises(NoHandlerMatched):
        registry.verify(WebhookRequest(headers={"X-Token": "no"}))


class NoHeaderVerifier(MinimalVerifier):
    """A verifier that requires no header: a candidate for every request."""

    required_headers: tuple[str, ...] = ()


def test_a_verifier_without_required_headers_is_tried_in_its_place() -> None:
    anyone = Handler("anyone", NoHeaderVerifier())
    first, last = hmac_handler("first", "s1", header="X-A"), hmac_handler("last", "s2")
    registry = HandlerRegistry([first, anyone, last])
    request = sign_request(last.verifier, b"{}")
    assert registry.candidates(request) == [anyone, last]
    assert registry.candidates(WebhookRequest(headers={"X-A": "x"})) == [first, anyone]
    assert registry.candidates(WebhookRequest()) == [anyone]
    assert registry.verify(request).handler is last


def test_an_empty_required_header_name_is_a_configuration_error() -> None:
    # such a header never arrives: the handler could never be a candidate
    class EmptyName(MinimalVerifier):
        required_headers = ("",)

    with pytest.raises(ConfigurationError, match="required_headers"):
        Handler("x", EmptyName())


def test_candidates_need_every_required_header_whatever_the_registry_size() -> None:
    # 1000 handlers filed under 1000 first headers: a request is looked up by
    # its own headers, and only the handler whose every header it carries is tried.
    handlers = [
        Handler(
            f"h{i}",
            HmacVerifier(
                secret="s",
                header=f"X-Sig-{i}",
                template="{timestamp}.{body}",
                timestamp_header="X-T",
            ),
        )
        for i in range(1000)
    ]
    registry = HandlerRegistry(handlers)
    request = sign_request(handlers[500].verifier, b"{}")
    assert registry.candidates(request) == [handlers[500]]
    without_stamp = [(k, v) for k, v in request.headers.raw_items() if k != "X-T"]
    assert registry.candidates(request.replace(headers=without_stamp)) == []
    assert registry.verify(request).handler is handlers[500]


def test_handler_replay_ttls_follow_the_ttl_rule() -> None:
    from webhookverify import presets
    from webhookverify.replay import ID_TTL, NO_TIMESTAMP_TTL

    untimed = HmacVerifier(secret="s", header="S")  # signs no timestamp
    assert untimed.replay_window is None
    assert Handler("a", untimed).replay_ttls == (ID_TTL, NO_TIMESTAMP_TTL)
    assert Handler("b", untimed, replay_ttl=90).replay_ttls == (90.0, 90.0)
    timed = presets.stripe(secret="whsec_x")
    window = float(timed.replay_window)
    assert Handler("c", timed).replay_ttls == (ID_TTL, window)
    assert Handler("d", timed, replay_ttl=window + 1).replay_ttls == (window + 1, window + 1)
    assert Handler("e", timed, replay_ttl=1).replay_ttls == (window, window)  # never below
