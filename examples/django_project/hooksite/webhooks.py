"""The senders this site accepts, and the receiver that checks them."""

from django.conf import settings

from webhookverify import Handler, HandlerRegistry, HmacVerifier, Receiver

# GitHub signs the raw body with HMAC-SHA256: X-Hub-Signature-256: sha256=<hex>
github = HmacVerifier(
    secret=settings.GITHUB_WEBHOOK_SECRET,
    header="X-Hub-Signature-256",
    prefix="sha256=",
    encoding="hex_lower",
)
receiver = Receiver(HandlerRegistry([Handler("github", github, user="ci-bot")]))
