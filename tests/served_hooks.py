"""What the framework integrations' real-server tests share: the receiver the
served apps verify with, the user's code they run, and the five delivery
cases sent over loopback.

The servers run in other processes (gunicorn, uvicorn) or threads (werkzeug),
so the user's code records each run by appending a line to a file the test
names (``WEBHOOK_RUNS_FILE`` for a subprocess); the tests read that file to
see what ran, and how often. The code answers as the body tells it on its
first run for that body (``{"answer": "400"}`` or ``{"answer": "raise"}``)
and 200 otherwise, so the sender's retry of a failed delivery succeeds.

GitHub signs no delivery id: the replay key is the body's hash, and every
case sends a body no other test sends (the servers outlive each test).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from webhookverify import Delivery, Handler, HandlerRegistry, Receiver, presets
from webhookverify.testing import sign_request

SECRET = "served-hooks-secret-0123456789"
RUNS_ENV = "WEBHOOK_RUNS_FILE"
REFUSED = b"webhook signature verification failed\n"


def new_receiver() -> Receiver:
    return Receiver(
        HandlerRegistry([Handler("github", presets.github(secret=SECRET), user="ci-bot")])
    )


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def runs_of(runs_file: str | Path, body: bytes) -> list[dict[str, Any]]:
    """The runs of the user's code recorded for ``body``, in order."""
    try:
        lines = Path(runs_file).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    found = [json.loads(line) for line in lines]
    return [
        {k: v for k, v in run.items() if k != "sha256"}
        for run in found
        if run["sha256"] == _digest(body)
    ]


def run_code(delivery: Delivery, runs_file: str | Path) -> int:
    """The user's code: record this run, then answer as the body says.

    Returns:
        the status the view answers: 400 for ``{"answer": "400"}`` on its
        first run, else 200.

    Raises:
        RuntimeError: for ``{"answer": "raise"}`` on its first run.
    """
    run = {
        "sha256": _digest(delivery.body),
        "handler": delivery.handler.name,
        "user": delivery.user,
    }
    with Path(runs_file).open("a", encoding="utf-8") as log:
        log.write(json.dumps(run) + "\n")
    answer = delivery.json().get("answer") if len(runs_of(runs_file, delivery.body)) == 1 else None
    if answer == "raise":
        raise RuntimeError("the database is down")
    return 400 if answer == "400" else 200


def answer_body(delivery: Delivery) -> dict[str, Any]:
    """What the served views answer with: who the delivery was verified for."""
    return {"handler": delivery.handler.name, "user": delivery.user}


@dataclass(frozen=True)
class Served:
    """A served webhook view: its URL and the file its runs are recorded in."""

    url: str
    runs_file: Path

    def post(self, body: bytes, signed_for: bytes | None = None) -> httpx.Response:
        """POST ``body`` with GitHub's signature for ``signed_for`` (default: ``body``)."""
        request = sign_request(
            presets.github(secret=SECRET), body if signed_for is None else signed_for
        )
        return httpx.post(self.url, content=body, headers=dict(request.headers.items()), timeout=10)

    def runs(self, body: bytes) -> list[dict[str, Any]]:
        return runs_of(self.runs_file, body)


def unique(answer: str = "ok") -> bytes:
    return json.dumps({"id": uuid.uuid4().hex, "answer": answer}).encode()


RAN = {"handler": "github", "user": "ci-bot"}


def valid(served: Served) -> None:
    body = unique()
    response = served.post(body)
    assert (response.status_code, response.json()) == (200, RAN)
    assert served.runs(body) == [RAN]


def tampered(served: Served) -> None:
    body, altered = unique(), unique()
    response = served.post(altered, signed_for=body)
    assert (response.status_code, response.content) == (401, REFUSED)
    assert served.runs(altered) == served.runs(body) == []


def replay(served: Served) -> None:
    body = unique()
    assert served.post(body).status_code == 200
    again = served.post(body)
    assert (again.status_code, again.content) == (200, b"")
    assert served.runs(body) == [RAN]


def _retried(served: Served, answer: str, status: int) -> None:
    body = unique(answer)
    assert served.post(body).status_code == status
    assert served.runs(body) == [RAN]  # it ran, and failed
    retry = served.post(body)
    assert (retry.status_code, retry.json()) == (200, RAN)
    assert served.runs(body) == [RAN, RAN]
    again = served.post(body)  # processed now: a duplicate
    assert (again.status_code, again.content, len(served.runs(body))) == (200, b"", 2)


def declined(served: Served) -> None:
    _retried(served, "400", 400)


def raised(served: Served) -> None:
    _retried(served, "raise", 500)


CASES = {
    "valid": valid,
    "tampered": tampered,
    "replay": replay,
    "declined-400": declined,
    "raised-500": raised,
}
