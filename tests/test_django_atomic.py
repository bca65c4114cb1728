"""A Django view under ``ATOMIC_REQUESTS``: the database commits before the delivery does.

With ``ATOMIC_REQUESTS = True`` Django runs each view in a transaction and
commits it after the view returns. ``webhook_view`` committed the delivery's
replay key inside the view, when the user's code returned 2xx, so a
transaction that then failed to commit (a deferred foreign key, as Django
creates them on PostgreSQL and SQLite; a serialization failure) answered
500, and the sender's retry was acknowledged as a duplicate of a delivery
whose writes were rolled back: lost. The view's own transaction now
commits inside the dispatch step, before the key.

Django's settings are configured once per process, so the case runs in a
subprocess with its own SQLite database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("django")

SCRIPT = r"""
import json, sys
import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="atomic-tests-only",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": sys.argv[1],
                           "ATOMIC_REQUESTS": True}},
    USE_TZ=True,
)
django.setup()

from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from webhookverify import Handler, HandlerRegistry, Receiver, presets
from webhookverify.django import WebhookView, webhook_view
from webhookverify.testing import sign_request

GITHUB = presets.github(secret="atomic-secret")
receiver = Receiver(HandlerRegistry([Handler("github", GITHUB)]))
runs = []

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    cursor.execute(
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL "
        "REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
    )


def write_child(delivery):
    runs.append(delivery.json()["parent"])
    in_atomic = connection.in_atomic_block
    with connection.cursor() as cursor:  # checked only at COMMIT: deferred
        cursor.execute("INSERT INTO child (parent_id) VALUES (%s)", [delivery.json()["parent"]])
    return HttpResponse(status=204 if in_atomic else 299)


@webhook_view(receiver)
def hook(request, delivery):
    return write_child(delivery)


class Hook(WebhookView):
    def handle(self, request, delivery):
        return write_child(delivery)


# A WebhookView without handle(): the receiver's listeners are the dispatch step.
listening = Receiver(HandlerRegistry([Handler("github", GITHUB)]))
listening.bus.bind("webhook.received", write_child)

urlpatterns = [
    path("hook", hook),
    path("class", Hook.as_view(receiver=receiver)),
    path("listeners", WebhookView.as_view(receiver=listening)),
]

statuses = {}
for target, parent in (("/hook", 7), ("/class", 8), ("/listeners", 9)):
    signed = sign_request(GITHUB, json.dumps({"parent": parent}).encode())
    headers = dict(signed.headers.items())

    def send():
        client = Client(raise_request_exception=False)
        return client.post(target, signed.body, content_type="application/json",
                           headers=headers).status_code

    first = send()  # no parent yet: the commit fails
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO parent (id) VALUES (%s)", [parent])
    retry = send()  # the sender's retry, once the parent exists
    again = send()  # processed now: a duplicate
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM child WHERE parent_id = %s", [parent])
        stored = cursor.fetchone()[0]
    statuses[target] = [first, retry, again, stored]
print(json.dumps({"statuses": statuses, "runs": runs}))
"""


def _run_script(tmp_path: Path) -> dict[str, Any]:
    script = tmp_path / "atomic_case.py"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "db.sqlite3")],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    found: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return found


def test_a_transaction_that_fails_to_commit_releases_the_delivery(tmp_path: Path) -> None:
    found = _run_script(tmp_path)
    # first: the commit failed (500); the retry ran the view again, in a
    # transaction, and its row is stored; the third is a duplicate
    assert found["statuses"]["/hook"] == [500, 204, 200, 1]
    assert found["statuses"]["/class"] == [500, 204, 200, 1]
    assert found["runs"][:4] == [7, 7, 8, 8]


def test_listeners_of_a_view_without_handle_commit_before_the_delivery(tmp_path: Path) -> None:
    # WebhookView without handle(): webhook.received listeners write in the
    # request's transaction. It committed after the receiver recorded the
    # delivery, so the retry of a failed commit was answered as a duplicate
    # and its row never stored.
    found = _run_script(tmp_path)
    assert found["statuses"]["/listeners"] == [500, 200, 200, 1]
    assert found["runs"][4:] == [9, 9]
