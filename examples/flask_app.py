"""Receive GitHub webhooks in Flask.

    GITHUB_WEBHOOK_SECRET=... flask --app examples/flask_app.py run

The view runs only for a verified, new delivery: ``webhook_view`` reads the
body once, verifies it, answers refusals (401) and replays (an empty 200)
itself, and hands the view the ``Delivery``. If the view fails (an exception,
or an answer other than 2xx), the delivery is not recorded as processed and
GitHub's retry reaches the view again.
"""

import os
import sys

from flask import Flask, request

from webhookverify import Delivery, Handler, HandlerRegistry, Receiver, presets
from webhookverify.flask import webhook_view

# GitHub signs the raw body with HMAC-SHA256: X-Hub-Signature-256: sha256=<hex>
secret = os.environ.get("GITHUB_WEBHOOK_SECRET")
if not secret:  # never a default: a secret written here is known to everyone
    sys.exit(
        "GITHUB_WEBHOOK_SECRET is not set: export GITHUB_WEBHOOK_SECRET='...' "
        "(the secret in GitHub's webhook settings) and start the app again"
    )
github = presets.github(secret=secret)
receiver = Receiver(HandlerRegistry([Handler("github", github, user="ci-bot")]))

app = Flask(__name__)


@app.post("/webhooks/github")
@webhook_view(receiver)
def github_webhook(delivery: Delivery) -> tuple[dict[str, object], int]:
    # verified: who sent it (delivery.handler, delivery.user), the exact body
    payload = delivery.json()
    return {
        "event": request.headers.get("X-GitHub-Event"),
        "user": delivery.user,
        "action": payload.get("action"),
    }, 200
