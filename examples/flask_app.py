"""Receive GitHub webhooks in Flask.

    GITHUB_WEBHOOK_SECRET=... flask --app examples/flask_app.py run

The middleware verifies every POST to /webhooks/github before Flask sees it;
the view runs only for a verified, new delivery. If the view fails (an
exception or a 5xx), the sender gets a 5xx and its retry is processed.
"""

import os
import sys

from flask import Flask, request

from webhookverify import Handler, HandlerRegistry, Receiver, presets
from webhookverify.wsgi import WebhookMiddleware, require_delivery

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
app.wsgi_app = WebhookMiddleware(app.wsgi_app, receiver, path="/webhooks/github")


@app.post("/webhooks/github")
def github_webhook() -> tuple[dict[str, object], int]:
    # verified: who sent it, exact body; raises MissingDelivery (a 500) if the
    # middleware does not guard this route, so the view never runs unverified
    delivery = require_delivery(request.environ)
    payload = delivery.json()
    return {
        "event": request.headers.get("X-GitHub-Event"),
        "user": delivery.user,
        "action": payload.get("action"),
    }, 200
