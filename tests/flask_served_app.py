"""The Flask app ``test_flask_servers.py`` serves with werkzeug (in a thread)
and gunicorn (``flask_served_app:create_app()``): ``POST /hooks`` is a
``webhook_view`` running the user's code of ``served_hooks.py``."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from served_hooks import RUNS_ENV, answer_body, new_receiver, run_code
from webhookverify import Delivery
from webhookverify.flask import webhook_view


def create_app(runs_file: str | None = None) -> Flask:
    """The app; its runs go to ``runs_file`` (default: ``$WEBHOOK_RUNS_FILE``)."""
    log = runs_file or os.environ[RUNS_ENV]
    app = Flask(__name__)

    @app.post("/hooks")
    @webhook_view(new_receiver())
    def hook(delivery: Delivery) -> tuple[dict[str, Any], int]:
        return answer_body(delivery), run_code(delivery, log)

    return app
