"""The pytest plugin: fixtures for testing code that receives webhooks.

Registered through the package's ``pytest11`` entry point, so that with
webhookverify installed its fixtures are available in every test suite
(``pytest -p no:webhookverify`` turns it off):

- ``webhook_signer``: a :class:`~webhookverify.testing_clients.WebhookSigner`
  that signs a delivery for a preset by name, a verifier, a handler, or a
  handler of your configuration, and sends it through Django's, Flask's,
  Starlette's / FastAPI's or aiohttp's test client, or a Lambda handler::

      def test_github(client, webhook_signer):
          signed = webhook_signer.sign("github", b'{"zen": "hi"}', secret="s3cr3t")
          assert signed.send_flask(client).status_code == 200

Importing the plugin imports no web framework.
"""

from __future__ import annotations

import pytest

from .testing_clients import WebhookSigner

__all__ = ["webhook_signer"]


@pytest.fixture
def webhook_signer() -> WebhookSigner:
    """Signs deliveries as their senders would, for any preset or configured handler."""
    return WebhookSigner()
