"""What docs/fastapi.md says of a database session dependency that commits on
exit: with ``scope="function"`` a failed commit is answered 500 and the
sender's retry runs the route again, whichever order the two dependencies
are declared in.

No ``from __future__ import annotations``: FastAPI reads the annotations.
"""

from collections.abc import Iterator
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from starlette.testclient import TestClient

from webhookverify import Delivery, Handler, HandlerRegistry, Receiver, presets
from webhookverify.fastapi import WebhookDelivery, install
from webhookverify.testing import sign_request

GITHUB = presets.github(secret="fastapi-session-secret")


@pytest.mark.parametrize("delivery_first", [True, False])
def test_a_session_commit_that_fails_before_the_answer_is_retried(delivery_first: bool) -> None:
    verified = WebhookDelivery(Receiver(HandlerRegistry([Handler("github", GITHUB)])))
    commits: list[bool] = []
    runs: list[int] = []

    def session() -> Iterator[str]:
        yield "session"
        commits.append(len(commits) > 0)  # the first commit fails
        if not commits[-1]:
            raise RuntimeError("could not serialize access")

    Session = Annotated[str, Depends(session, scope="function")]
    Verified = Annotated[Delivery, Depends(verified)]
    app = FastAPI()
    install(app)
    if delivery_first:

        @app.post("/hook")
        async def hook_a(delivery: Verified, db: Session) -> dict[str, str]:
            runs.append(1)
            return {}
    else:

        @app.post("/hook")
        async def hook_b(db: Session, delivery: Verified) -> dict[str, str]:
            runs.append(1)
            return {}

    signed = sign_request(GITHUB, b'{"action": "opened"}')
    with TestClient(app, raise_server_exceptions=False) as client:
        answers = [
            client.post("/hook", content=signed.body, headers=dict(signed.headers)).status_code
            for _ in range(3)
        ]
    assert answers == [500, 200, 200]
    assert (len(runs), commits) == (2, [False, True])  # the third was a duplicate
