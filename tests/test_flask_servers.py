"""webhookverify.flask under real servers over loopback: werkzeug's own
server (in a thread) and gunicorn's sync worker (a process), with the five
delivery cases of ``served_hooks.py``: valid, tampered, replay, the view
answering 400 and the view raising, each with the sender's retry."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

import flask_served_app
from served_hooks import CASES, RUNS_ENV, Served
from test_servers import TESTS, command, free_port, running

pytestmark = pytest.mark.server


@pytest.fixture(scope="module", params=["werkzeug", "gunicorn"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    runs_file = tmp_path_factory.mktemp("flask-runs") / "runs.jsonl"
    if request.param == "werkzeug":
        app = flask_served_app.create_app(str(runs_file))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield Served(f"http://127.0.0.1:{server.server_port}/hooks", runs_file)
        finally:
            server.shutdown()
            thread.join()
            server.server_close()
        return
    port = free_port()
    argv = command("gunicorn", port, app="flask_served_app:create_app()")
    with running("gunicorn", argv, port, cwd=TESTS, env={RUNS_ENV: str(runs_file)}):
        yield Served(f"http://127.0.0.1:{port}/hooks", runs_file)


@pytest.mark.parametrize("case", list(CASES))
def test_the_delivery_semantics_over_loopback(served: Served, case: str) -> None:
    CASES[case](served)
