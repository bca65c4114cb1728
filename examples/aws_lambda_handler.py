"""Receive GitHub webhooks in AWS Lambda, behind API Gateway or a function URL.

Handler: ``aws_lambda_handler.handler``. Environment:

- ``GITHUB_WEBHOOK_SECRET``: the secret in GitHub's webhook settings (from
  AWS Secrets Manager or SSM Parameter Store, not written in the template);
- ``WEBHOOKVERIFY_REDIS_URL``: the Redis every instance of the function
  shares (ElastiCache, MemoryDB), e.g. ``rediss://:token@host:6379/0``, so
  that a replay is refused whichever instance it reaches.

The function runs only for a verified, new delivery; refusals (401) and
replays (an empty 200) are answered before it. If it raises or answers other
than 2xx, the delivery is not recorded as processed and GitHub's retry runs
it again.
"""

import json
import logging
import os
import sys

from webhookverify import Delivery, Handler, HandlerRegistry, presets
from webhookverify.aws_lambda import receiver_from_env, webhook_handler

logger = logging.getLogger()
logger.setLevel(logging.INFO)

# GitHub signs the raw body with HMAC-SHA256: X-Hub-Signature-256: sha256=<hex>
secret = os.environ.get("GITHUB_WEBHOOK_SECRET")
if not secret:  # never a default: a secret written here is known to everyone
    sys.exit(
        "GITHUB_WEBHOOK_SECRET is not set: export GITHUB_WEBHOOK_SECRET='...' "
        "(the secret in GitHub's webhook settings) in the function's environment"
    )
registry = HandlerRegistry([Handler("github", presets.github(secret=secret), user="ci-bot")])
# built at init, outside the handler: warm invocations reuse its Redis connection
receiver = receiver_from_env(registry)


@webhook_handler(receiver)
def handler(event: dict, context: object, delivery: Delivery) -> dict:
    # verified: who sent it (delivery.handler, delivery.user), the exact body
    payload = delivery.json()
    logger.info("GitHub delivery %s for %s", delivery.delivery_id, delivery.user)
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(
            {
                "event": delivery.request.headers.get("X-GitHub-Event"),
                "user": delivery.user,
                "action": payload.get("action"),
            }
        ),
    }
