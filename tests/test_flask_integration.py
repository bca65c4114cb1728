"""webhookverify.flask end to end through Flask's test client: the view runs
once per verified, new delivery; refusals and duplicates never reach it; a
view that fails or answers non-2xx has the sender's retry run it again."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask, abort, request
from flask.testing import FlaskClient

from webhookverify import ConfigurationError, Delivery, Handler, HandlerRegistry, Receiver, presets
from webhookverify.flask import WebhookVerify, webhook_view
from webhookverify.testing import make_environ, run_wsgi, sign_request

SECRET = "flask-test-secret"
RULES = {
    "handlers": [
        {"name": "github", "preset": "github", "secret": "env:FLASK_HOOK_SECRET", "user": "ci-bot"}
    ]
}


def signed(body: bytes = b'{"action": "opened"}') -> dict[str, str]:
    """GitHub's headers for ``body``, with a fresh delivery id."""
    request = sign_request(
        presets.github(secret=SECRET), body, headers={"X-GitHub-Delivery": str(uuid.uuid4())}
    )
    return dict(request.headers.items())


class Recorder:
    """A view that records each delivery and answers as told (a status, or a raise)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None, Any]] = []
        self.answers: list[int | Exception] = []

    def __call__(self, delivery: Delivery) -> tuple[dict[str, Any], int]:
        self.calls.append((delivery.handler.name, delivery.user, delivery.json()))
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        if answer == 418:
            abort(418)
        return {"ok": answer < 300}, answer


def make_app() -> tuple[Flask, Recorder]:
    receiver = Receiver(
        HandlerRegistry([Handler("github", presets.github(secret=SECRET), user="ci-bot")])
    )
    recorder = Recorder()
    app = Flask(__name__)
    app.post("/hooks")(webhook_view(receiver)(recorder))
    return app, recorder


@pytest.fixture
def setup() -> tuple[FlaskClient, Recorder]:
    app, recorder = make_app()
    return app.test_client(), recorder


def test_valid_delivery_runs_the_view_once_with_handler_and_user(
    setup: tuple[FlaskClient, Recorder],
) -> None:
    client, recorder = setup
    response = client.post("/hooks", data=b'{"action": "opened"}', headers=signed())
    assert (response.status_code, response.get_json()) == (200, {"ok": True})
    assert recorder.calls == [("github", "ci-bot", {"action": "opened"})]


def test_tampered_delivery_is_refused_and_nothing_runs(
    setup: tuple[FlaskClient, Recorder],
) -> None:
    client, recorder = setup
    response = client.post("/hooks", data=b'{"action": "closed"}', headers=signed())
    assert response.status_code == 401
    assert response.data == b"webhook signature verification failed\n"
    assert recorder.calls == []


def test_replay_answers_200_without_running_the_view(
    setup: tuple[FlaskClient, Recorder],
) -> None:
    client, recorder = setup
    headers = signed()
    assert client.post("/hooks", data=b'{"action": "opened"}', headers=headers).status_code == 200
    replay = client.post("/hooks", data=b'{"action": "opened"}', headers=headers)
    assert (replay.status_code, replay.data) == (200, b"")
    assert len(recorder.calls) == 1


@pytest.mark.parametrize(
    ("failure", "status"), [(400, 400), (418, 418), (RuntimeError("db down"), 500)]
)
def test_a_view_that_fails_is_run_again_by_the_retry(
    setup: tuple[FlaskClient, Recorder], failure: int | Exception, status: int
) -> None:
    client, recorder = setup
    recorder.answers.append(failure)
    headers = signed()
    first = client.post("/hooks", data=b'{"action": "opened"}', headers=headers)
    assert first.status_code == status
    retry = client.post("/hooks", data=b'{"action": "opened"}', headers=headers)
    assert (retry.status_code, retry.get_json()) == (200, {"ok": True})
    assert len(recorder.calls) == 2
    again = client.post("/hooks", data=b'{"action": "opened"}', headers=headers)
    assert (again.status_code, len(recorder.calls)) == (200, 2)


def test_a_body_over_the_limit_is_413_before_reading() -> None:
    receiver = Receiver(
        HandlerRegistry([Handler("github", presets.github(secret=SECRET), user="ci-bot")])
    )
    app = Flask(__name__)
    recorder = Recorder()
    app.post("/hooks")(webhook_view(receiver, max_body_size=10)(recorder))
    body = b'{"action": "opened"}'
    response = app.test_client().post("/hooks", data=body, headers=signed(body))
    assert response.status_code == 413
    assert recorder.calls == []


def test_extension_reads_app_config_in_a_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_HOOK_SECRET", SECRET)
    webhooks = WebhookVerify()
    seen: list[tuple[str, str | None, str]] = []

    @webhooks.view
    def hook(delivery: Delivery, kind: str) -> tuple[str, int]:
        seen.append((delivery.handler.name, delivery.user, kind))
        return "", 204

    def create_app() -> Flask:
        app = Flask(__name__)
        app.config["WEBHOOKVERIFY_CONFIG"] = RULES
        webhooks.init_app(app)
        app.add_url_rule("/hooks/<kind>", view_func=hook, methods=["POST"])
        return app

    client = create_app().test_client()
    headers = signed()
    assert (
        client.post("/hooks/ci", data=b'{"action": "opened"}', headers=headers).status_code == 204
    )
    assert (
        client.post("/hooks/ci", data=b'{"action": "opened"}', headers=headers).status_code == 200
    )
    assert client.post("/hooks/ci", data=b"{}", headers=signed()).status_code == 401
    assert seen == [("github", "ci-bot", "ci")]


def test_extension_without_its_setting_says_which_to_set() -> None:
    with pytest.raises(
        ConfigurationError, match=r"^WEBHOOKVERIFY_CONFIG is not set in app\.config"
    ):
        WebhookVerify(Flask(__name__))


def test_a_body_a_hook_read_before_the_view_is_verified_as_sent() -> None:
    app, recorder = make_app()
    seen: list[Any] = []
    app.before_request(lambda: seen.append(request.get_json()))
    response = app.test_client().post("/hooks", data=b'{"action": "opened"}', headers=signed())
    assert response.status_code == 200
    assert seen == [{"action": "opened"}]
    assert recorder.calls == [("github", "ci-bot", {"action": "opened"})]


def test_the_view_may_read_the_body_from_flask_request_too() -> None:
    # request.get_json() in the view is what Flask users write by reflex; it
    # found an empty stream (400 Failed to decode JSON), which declined the
    # delivery, and every retry of the sender was declined the same way.
    receiver = Receiver(
        HandlerRegistry([Handler("github", presets.github(secret=SECRET), user="ci-bot")])
    )
    app = Flask(__name__)

    @app.post("/hooks")
    @webhook_view(receiver)
    def hook(delivery: Delivery) -> dict[str, Any]:
        assert request.get_data() == delivery.body
        return {"json": request.get_json(), "data": request.data.decode()}

    body = b'{"action": "opened"}'
    headers = {**signed(body), "Content-Type": "application/json"}
    response = app.test_client().post("/hooks", data=body, headers=headers)
    assert (response.status_code, response.get_json()) == (
        200,
        {"json": {"action": "opened"}, "data": body.decode()},
    )


@pytest.mark.parametrize(("size", "status", "runs"), [(1 << 20, 200, 1), (10, 413, 0)])
def test_a_chunked_body_is_read_within_the_limit(size: int, status: int, runs: int) -> None:
    """Without a Content-Length (the server marks its input terminated), the
    body is read up to the limit and no further."""
    receiver = Receiver(
        HandlerRegistry([Handler("github", presets.github(secret=SECRET), user="ci-bot")])
    )
    recorder = Recorder()
    app = Flask(__name__)
    app.post("/hooks")(webhook_view(receiver, max_body_size=size)(recorder))
    request = sign_request(
        presets.github(secret=SECRET), b'{"action": "opened"}', url="http://localhost/hooks"
    )
    response = run_wsgi(app, make_environ(request, chunked=True))
    assert response.status == status
    assert len(recorder.calls) == runs
