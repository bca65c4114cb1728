"""A newcomer's first five minutes: the mistakes made while setting up, and
what a failing delivery tells the person who has to fix it.

Each test is a plausible mistake (a secret read with its newline, a Flask app
wrapped the way ProxyFix is, a middleware of the other server interface, a
TOML table with single brackets) that used to fail every delivery, loop, or
answer with a message naming neither the cause nor the setting; or a
refusal whose log line did not say what to check.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from webhookverify import (
    ConfigurationError,
    Handler,
    HandlerRegistry,
    HmacVerifier,
    Receiver,
    Secret,
    TokenVerifier,
    asgi,
    presets,
    wsgi,
)
from webhookverify.cli import main
from webhookverify.config import load_registry
from webhookverify.testing import make_environ, run_wsgi, sign_request

SECRET = "a-github-webhook-secret"


def _receiver() -> Receiver:
    return Receiver(HandlerRegistry([Handler("github", presets.github(secret=SECRET))]))


# -- the command -------------------------------------------------------------------


def test_python_dash_m_runs_the_command() -> None:
    # `python -m webhookverify` is how a command is run from an environment
    # that is not activated; it answered "is a package and cannot be
    # directly executed"
    result = subprocess.run(
        [sys.executable, "-m", "webhookverify", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("webhookverify ")


def _github_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A configuration file with one GitHub handler, its secret in the environment."""
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", SECRET)
    config = tmp_path / "webhooks.toml"
    config.write_text(
        '[[webhooks.handlers]]\nname = "github"\npreset = "github"\n'
        'secret = "env:GITHUB_WEBHOOK_SECRET"\n'
    )
    return config


def test_serve_names_public_url_when_the_flag_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the error named the file and told to check [webhooks], where the user
    # had written nothing: the bad value came from --public-url
    config = _github_config(tmp_path, monkeypatch)
    argv = ["serve", "--config", str(config), "--port", "0", "--public-url", "hooks.example.com"]
    assert main(argv) == 2
    cause, remedy = capsys.readouterr().err.splitlines()
    assert cause.startswith("webhookverify: --public-url: ")
    assert remedy == "remedy: check --public-url"


def test_sign_curl_quotes_the_url_and_the_body_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `sign ... --curl URL | sh`, as getting started runs it: a query's & put
    # curl in the background with half the URL, a space split the body's path
    import shlex

    body = tmp_path / "push event.json"
    body.write_bytes(b'{"action": "opened"}')
    url = "http://127.0.0.1:8000/webhooks?source=github&env=staging"
    argv = ["sign", "--preset", "github", "--secret", SECRET, "--body", str(body), "--curl", url]
    assert main(argv) == 0
    words = shlex.split(capsys.readouterr().out)
    assert words[:6] == ["curl", "-sS", "-i", "-X", "POST", "-H"]
    assert words[-3:] == ["--data-binary", f"@{body}", url]


def test_explain_says_when_the_body_file_gained_a_final_newline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # a delivery's body pasted into a file gains the editor's final newline:
    # explain said only signature_mismatch, and the secret got the blame
    config = _github_config(tmp_path, monkeypatch)
    sent = b'{"action": "opened"}'
    [(name, value)] = presets.github(secret=SECRET).sign(sent).items()
    body = tmp_path / "event.json"
    for saved, told in ((sent + b"\n", True), (sent + b" ", False)):
        body.write_bytes(saved)
        argv = ["explain", "--config", str(config), "-H", f"{name}: {value}", "--body", str(body)]
        assert main(argv) == 1
        out = capsys.readouterr().out
        assert "github: signature_mismatch" in out
        assert ("the body without its final line break verifies" in out) is told


def test_sign_id_for_a_sender_without_an_id_header_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # --id went out as a header literally named "id", which no sender sends
    # and no verifier reads, and the user believed the id was signed
    svix = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    assert main(["sign", "--preset", "svix", "--secret", svix, "--id", "msg_1"]) == 0
    assert "svix-id: msg_1" in capsys.readouterr().out.splitlines()
    for preset, secret in (("github", SECRET), ("stripe", "whsec_test_secret")):
        assert main(["sign", "--preset", preset, "--secret", secret, "--id", "msg_1"]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith("webhookverify: --id: this sender signs no delivery id")


# -- secrets as they are read ------------------------------------------------------


@pytest.mark.parametrize("value", [f"{SECRET}\n", f"{SECRET}\r\n", f" {SECRET}", f"{SECRET} "])
@pytest.mark.parametrize(
    ("owner", "build"),
    [
        ("presets.github", lambda value: presets.github(secret=value)),
        ("presets.stripe", lambda value: presets.stripe(secrets=["whsec_old", value])),
        ("HmacVerifier", lambda value: HmacVerifier(secret=value, header="X-Signature")),
        ("TokenVerifier", lambda value: TokenVerifier(secret=value, header="X-Token")),
    ],
)
def test_a_secret_read_with_its_newline_is_refused(owner: str, build: Any, value: str) -> None:
    # open("secret").read() or a variable set from a file keeps the newline;
    # taken as part of the key, every genuine delivery was refused 401
    with pytest.raises(ConfigurationError) as info:
        build(value)
    message = str(info.value)
    assert message.startswith(f"{owner}: ")
    assert "space or a line break" in message and SECRET not in message


def test_a_secret_with_a_space_can_still_be_given_on_purpose() -> None:
    for key in (Secret("edge-secret "), b"edge-secret\n"):
        verifier = HmacVerifier(secret=key, header="X-Signature")
        verifier.verify(sign_request(verifier, b"{}"))


def test_an_empty_secret_names_the_preset() -> None:
    # os.environ.get("X", "") or a variable exported empty: the message named
    # no preset, so a registry of several senders left the user guessing
    for build, owner in (
        (lambda: presets.github(secret=""), "presets.github"),
        (lambda: presets.standard_webhooks(secret=""), "presets.standard_webhooks"),
        (lambda: TokenVerifier(secrets=["a-token", ""], header="X-Token"), "TokenVerifier"),
    ):
        with pytest.raises(ConfigurationError, match=f"^{owner}: a secret is empty"):
            build()


def test_a_standard_webhooks_secret_read_as_bytes_is_refused() -> None:
    # bytes are a raw key, but bytes spelling whsec_... are the dashboard's
    # text read in binary: as the key, every delivery failed
    text = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    with pytest.raises(ConfigurationError, match=r"^presets\.svix: .*pass it as str"):
        presets.svix(secret=text.encode() + b"\n")
    with pytest.raises(ConfigurationError, match="pass it as str"):
        presets.standard_webhooks(secrets=[text, text.encode()])
    verifier = presets.standard_webhooks(secret=text)  # as str, decoded: accepted
    verifier.verify(sign_request(verifier, b"{}"))


def test_a_configured_env_secret_loses_its_trailing_newline_as_file_does() -> None:
    # `file:` dropped the newline and `env:` kept it, so the same key read from
    # a mounted secret verified through one and not the other
    config = {
        "webhooks": {
            "handlers": [{"name": "github", "preset": "github", "secret": "env:GITHUB_SECRET"}]
        }
    }
    registry = load_registry(config, environ={"GITHUB_SECRET": f"{SECRET}\n"})
    receiver = Receiver(registry)
    assert receiver.receive(sign_request(presets.github(secret=SECRET), b"{}")).status == 200
    with pytest.raises(ConfigurationError, match=r"handlers\[0\] 'github': presets\.github: a"):
        load_registry(config, environ={"GITHUB_SECRET": f" {SECRET}"})
    # a key with an id and a window is a Secret already: checked where it is read
    table = {"value": "env:GITHUB_SECRET", "key_id": "2026"}
    config["webhooks"]["handlers"][0]["secrets"] = [table]
    del config["webhooks"]["handlers"][0]["secret"]
    with pytest.raises(ConfigurationError, match=r"secrets\[0\] starts or ends with a space"):
        load_registry(config, environ={"GITHUB_SECRET": f"{SECRET} "})


def test_a_handlers_table_in_single_brackets_is_named() -> None:
    # [webhooks.handlers] instead of [[webhooks.handlers]]: "no handlers",
    # above the handler the user had just written
    config = {"webhooks": {"handlers": {"name": "github", "preset": "github"}}}
    with pytest.raises(ConfigurationError, match=r"\[\[webhooks\.handlers\]\], with double"):
        load_registry(config, environ={})


def test_a_handlers_table_outside_webhooks_is_named() -> None:
    # [[handlers]] beside [[webhooks.handlers]]: that sender was left out
    # without a word, and each of its deliveries refused 401
    config = {
        "webhooks": {"handlers": [{"name": "github", "preset": "github", "secret": "env:S"}]},
        "handlers": [{"name": "stripe", "preset": "stripe", "secret": "env:S"}],
    }
    with pytest.raises(
        ConfigurationError, match=r"write \[\[webhooks.handlers\]\], not \[\[handlers\]\]"
    ):
        load_registry(config, environ={"S": SECRET})


# -- the adapters' app ------------------------------------------------------------


def _wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("204 No Content", [])
    return [b""]


async def _asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    raise AssertionError("not called")


def test_a_middleware_given_an_app_of_the_other_kind_is_refused_when_built() -> None:
    # a Flask app behind asgi.WebhookMiddleware (or FastAPI behind the WSGI
    # one) was accepted and answered 500, a TypeError, to every request
    from flask import Flask

    for app in (_wsgi_app, Flask(__name__), Flask(__name__).wsgi_app):
        with pytest.raises(
            ConfigurationError, match=r"is given a WSGI app.*wsgi\.WebhookMiddleware"
        ):
            asgi.WebhookMiddleware(app, _receiver())
    with pytest.raises(ConfigurationError, match=r"is given an ASGI app.*asgi\.WebhookMiddleware"):
        wsgi.WebhookMiddleware(_asgi_app, _receiver())
    wsgi.WebhookMiddleware(_wsgi_app, _receiver())
    asgi.WebhookMiddleware(_asgi_app, _receiver())


def test_a_flask_app_wrapped_as_its_own_wsgi_app_is_named(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # app.wsgi_app = WebhookMiddleware(app, ...): the middleware called itself.
    # Every delivery was answered 409 "being processed" (its key already held
    # by the outer call), so every retry too; any other path recursed
    from flask import Flask

    app = Flask(__name__)
    ran = []
    app.add_url_rule("/webhooks", "hook", lambda: ran.append(1) or ("", 204), methods=["POST"])
    app.wsgi_app = wsgi.WebhookMiddleware(app, _receiver(), path="/webhooks")  # type: ignore[method-assign]

    signed = sign_request(presets.github(secret=SECRET), b"{}", url="http://h/webhooks")
    with caplog.at_level(logging.ERROR, logger="webhookverify"):
        response = run_wsgi(app, make_environ(signed))
    assert response.status == 500 and not ran  # the sender retries once it is fixed
    assert "write app.wsgi_app = WebhookMiddleware(app.wsgi_app, receiver" in caplog.text
    with pytest.raises(ConfigurationError, match="so it calls itself"):
        app.test_client().get("/")


# -- what a refused delivery tells the operator -------------------------------------


def _refusal_line(caplog: pytest.LogCaptureFixture, receiver: Receiver, request: Any) -> str:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="webhookverify"):
        outcome = receiver.receive(request)
    assert outcome.status == 401
    assert outcome.body == b"webhook signature verification failed\n"  # the sender learns nothing
    [line] = [r.getMessage() for r in caplog.records if r.name == "webhookverify"]
    return line


def test_the_refusal_log_line_says_what_to_check(caplog: pytest.LogCaptureFixture) -> None:
    # "github signature_mismatch" alone left a newcomer guessing between a
    # wrong secret, a proxy and a framework that re-serialized the body
    stripe = presets.stripe(secret="whsec_test_secret")
    receiver = Receiver(
        HandlerRegistry(
            [Handler("github", presets.github(secret=SECRET)), Handler("stripe", stripe)]
        )
    )
    wrong = _refusal_line(caplog, receiver, sign_request(presets.github(secret="guess"), b"{}"))
    assert wrong.startswith("webhook refused (401 no_handler_matched: github signature_mismatch; ")
    assert "check the secret against the sender's webhook settings" in wrong
    assert "body and URL reach the receiver unchanged" in wrong

    # the numbers tell a clock a little off from an old delivery sent again
    signed_at = 1767225600.0
    stale = sign_request(stripe, b'{"id": "evt_1"}', now=signed_at, received_at=signed_at + 3600)
    line = _refusal_line(caplog, receiver, stale)
    assert (
        "stripe timestamp_too_old; 3600 s old, tolerance 300 s; check this server's clock" in line
    )
    early = sign_request(stripe, b'{"id": "evt_2"}', now=signed_at + 400, received_at=signed_at)
    line = _refusal_line(caplog, receiver, early)
    assert "stripe timestamp_in_future; 400 s ahead, tolerance 300 s; check this server's" in line

    bare = sign_request(presets.github(secret=SECRET), b"{}")
    unsigned = type(bare)(method="POST", url=bare.url, headers={}, body=b"{}")
    line = _refusal_line(caplog, receiver, unsigned)
    assert "missing_header; no handler found the headers it reads" in line
    assert SECRET not in caplog.text


# -- the Flask extension's settings ---------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        # a misspelt key was ignored: the default size, or the memory store,
        # silently in its place
        (
            {"WEBHOOKVERIFY_MAX_BODY": 10 << 20},
            "app.config['WEBHOOKVERIFY_MAX_BODY'] is not a webhookverify setting; "
            "did you mean 'WEBHOOKVERIFY_MAX_BODY_SIZE'?",
        ),
        (
            {"WEBHOOKVERIFY_REPLAY_STORE": "redis://127.0.0.1:6379/0"},
            "app.config['WEBHOOKVERIFY_REPLAY_STORE'] is a replay store, not a URL: "
            "set it to RedisReplayStore(url) (from webhookverify.replay)",
        ),
        (
            {"WEBHOOKVERIFY_REPLAY_STORE": object()},
            "app.config['WEBHOOKVERIFY_REPLAY_STORE']: Receiver(replay_store=...) has no",
        ),
    ],
)
def test_the_flask_extension_names_a_wrong_setting(settings: dict[str, Any], message: str) -> None:
    from flask import Flask

    from webhookverify.flask import WebhookVerify

    app = Flask(__name__)
    app.config["WEBHOOKVERIFY_CONFIG"] = {
        "webhooks": {"handlers": [{"name": "github", "preset": "github", "secret": "env:S"}]}
    }
    app.config.update(settings)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("S", SECRET)
        with pytest.raises(ConfigurationError) as info:
            WebhookVerify().init_app(app)
    assert str(info.value).startswith(message)


# -- the receiver given the wrong object ----------------------------------------------


def test_a_receiver_or_adapter_given_the_wrong_object_says_what_it_got_and_the_fix() -> None:
    # "must be a HandlerRegistry" did not say that the list of handlers the
    # user passed needs wrapping, nor which of its arguments was which
    from webhookverify import EventBus
    from webhookverify.flask import webhook_view

    handler = Handler("github", presets.github(secret=SECRET))
    for wrong, got in (([handler], "list"), (handler, "Handler"), (EventBus(), "EventBus")):
        with pytest.raises(ConfigurationError) as info:
            Receiver(wrong)  # type: ignore[arg-type]
        assert str(info.value) == (
            f"Receiver(registry=...) must be a HandlerRegistry, not {got}: "
            "write Receiver(HandlerRegistry([Handler(...), ...]))"
        )
    registry = HandlerRegistry([handler])
    with pytest.raises(ConfigurationError, match=r"not HandlerRegistry: write WebhookApp\(Recei"):
        wsgi.WebhookApp(registry)  # type: ignore[arg-type]

    def view(delivery: Any) -> tuple[str, int]:
        return "", 204

    with pytest.raises(ConfigurationError, match=r"not function; write @webhook_view\(receiver\)"):
        webhook_view(view)  # type: ignore[arg-type]  # @webhook_view with no receiver


def test_a_public_url_ending_with_the_webhook_path_is_refused() -> None:
    # public_url is a base: with the endpoint's whole URL (as the RFC 9421
    # guide's example gave it) the path was appended again, and every
    # URL-signed delivery was checked against /webhooks/webhooks and refused
    twilio = presets.twilio(secret="an-auth-token")
    receiver = Receiver(HandlerRegistry([Handler("twilio", twilio)]))
    for public_url in ("https://hooks.example.com/webhooks", "https://hooks.example.com/Webhooks/"):
        with pytest.raises(ConfigurationError) as info:
            wsgi.WebhookMiddleware(_wsgi_app, receiver, path="/webhooks", public_url=public_url)
        assert str(info.value) == (
            "WebhookMiddleware(public_url=...) ends with the webhook path '/webhooks', which "
            "the request's own path adds again: give the base, https://hooks.example.com "
            "(with only the prefix a proxy strips, if any)"
        )
    # the base, or a prefix a proxy strips: the URL Twilio called is rebuilt
    calls = []
    for base, sent in (
        ("https://hooks.example.com", "https://hooks.example.com/webhooks"),
        ("https://hooks.example.com/api", "https://hooks.example.com/api/webhooks"),
    ):
        app = wsgi.WebhookMiddleware(_wsgi_app, receiver, path="/webhooks", public_url=base)
        signed = sign_request(twilio, b"Body=hi", url=sent)
        environ = make_environ(signed)
        environ["PATH_INFO"] = "/webhooks"
        calls.append(run_wsgi(app, environ).status)
    assert calls == [204, 204]
