"""The Flask app ``test_round4_lost.py`` serves with gunicorn
(``lost_served_app:create_app()``), with ``MAX_CONTENT_LENGTH`` below the
webhook views' ``max_body_size``:

- ``POST /plain``: records the delivery, answers 204;
- ``POST /stream``: answers with a generator that fails on the first
  attempt for a body and records the delivery on a later one.

Each line of ``$WEBHOOK_RUNS_FILE`` is ``<what> <sha256 of the body>``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask, Response, stream_with_context

from webhookverify import Delivery, Handler, HandlerRegistry, HmacVerifier, Receiver
from webhookverify.flask import webhook_view

SECRET = "round4-lost-secret-0123456789"
RUNS_ENV = "WEBHOOK_RUNS_FILE"
APP_LIMIT = 1024  # the app's MAX_CONTENT_LENGTH: deliveries are larger


def verifier() -> HmacVerifier:
    return HmacVerifier(secret=SECRET, header="X-Signature", prefix="sha256=")


def runs(runs_file: str | Path, what: str, body: bytes) -> int:
    """How many ``what`` lines the file holds for ``body``."""
    line = f"{what} {hashlib.sha256(body).hexdigest()}"
    try:
        return Path(runs_file).read_text(encoding="utf-8").splitlines().count(line)
    except FileNotFoundError:
        return 0


def _note(runs_file: str, what: str, body: bytes) -> None:
    with Path(runs_file).open("a", encoding="utf-8") as log:
        log.write(f"{what} {hashlib.sha256(body).hexdigest()}\n")


def create_app() -> Flask:
    log = os.environ[RUNS_ENV]
    receiver = Receiver(HandlerRegistry([Handler("svc", verifier())]))
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = APP_LIMIT

    @app.post("/plain")
    @webhook_view(receiver)
    def plain(delivery: Delivery) -> Any:
        _note(log, "done", delivery.body)
        return "", 204

    @app.post("/stream")
    @webhook_view(receiver)
    def stream(delivery: Delivery) -> Any:
        def chunks() -> Iterator[bytes]:
            yield b"working\n"
            first = runs(log, "attempt", delivery.body) == 0
            _note(log, "attempt", delivery.body)
            if first:
                raise RuntimeError("the database went away mid-stream")
            _note(log, "done", delivery.body)
            yield b"done\n"

        return Response(stream_with_context(chunks()), 200)

    return app
