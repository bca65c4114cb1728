"""The fetched-key presets against a local HTTPS key server (test CA, loopback):
keys fetched from the providers' real host names (connected to loopback by
the fetcher's test hook), pinned, cached, and a provider that cannot be
reached answered 503 with Retry-After by the receiver and the WSGI and ASGI
apps."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pytest

from webhookverify import (
    Handler,
    HandlerRegistry,
    Receiver,
    VerificationError,
    WebhookRequest,
    presets,
)
from webhookverify import asgi as asgi_adapter
from webhookverify import wsgi as wsgi_adapter
from webhookverify.keyfetch import MIN_REFETCH_INTERVAL, KeyCache
from webhookverify.keyfetch.jws import encode
from webhookverify.testing import make_environ, run_wsgi, sign_request

from _keyserver import KeyServer, Route, certificate, jwk, jwks, private_key

AUDIENCE = "https://hooks.example.test/pubsub"
ACCOUNT = "push@example-project.iam.gserviceaccount.com"
TOPIC = "arn:aws:sns:us-east-1:123456789012:MyTopic"
SNS_CERT = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"


def google(server: KeyServer, **fetch: Any) -> Any:
    return presets.google_oidc(
        audience=AUDIENCE,
        service_account=ACCOUNT,
        fetcher=server.fetcher(**fetch),
        private_key=private_key("rsa", 0),
        signing_key_id="g0",
    )


def serve_google_keys(server: KeyServer) -> None:
    server.routes[("www.googleapis.com", "/oauth2/v3/certs")] = Route(
        jwks(jwk(private_key("rsa", 0), "g0", alg="RS256"), jwk(private_key("rsa", 1), "g1")),
        headers={"Cache-Control": "public, max-age=21600, must-revalidate"},
    )


# -- google_oidc -------------------------------------------------------------------


def test_google_key_set_is_fetched_once_for_many_requests(fresh: KeyServer) -> None:
    serve_google_keys(fresh)
    verifier = google(fresh)
    now = time.time()
    for n in range(10):
        request = sign_request(verifier, b'{"message":{"messageId":"%d"}}' % n, now=now)
        assert verifier.verify(request).key_id == "g0"
        assert asyncio.run(verifier.averify(request)).key_id == "g0"
    assert fresh.hits == {"www.googleapis.com/oauth2/v3/certs": 1}


def test_google_key_set_url_is_pinned_to_googleapis() -> None:
    from webhookverify import ConfigurationError

    with pytest.raises(ConfigurationError):
        presets.google_oidc(
            audience=AUDIENCE,
            service_account=ACCOUNT,
            jwks_url="http://www.googleapis.com/oauth2/v3/certs",
        )
    with pytest.raises(ConfigurationError):
        presets.google_oidc(
            audience=AUDIENCE,
            service_account=ACCOUNT,
            jwks_url="https://evil.example/oauth2/v3/certs",
        )


def test_forged_kid_flood_costs_one_refetch_at_the_server(fresh: KeyServer) -> None:
    serve_google_keys(fresh)
    verifier = google(fresh)
    now = time.time()
    forged = []
    for n in range(100):
        token = encode(
            {"kid": f"forged-{n}"}, {"iss": "accounts.google.com"}, private_key("rsa", 2), "RS256"
        )
        forged.append(
            sign_request(verifier, b"{}", now=now).replace(
                headers={"Authorization": f"Bearer {token}"}
            )
        )
    for request in forged:  # cold cache: the first fetch, then nothing within the interval
        with pytest.raises(VerificationError) as info:
            verifier.verify(request)
        assert info.value.__class__.__name__ == "UnknownKey"
    assert fresh.hits == {"www.googleapis.com/oauth2/v3/certs": 1}


def test_flood_after_the_interval_costs_exactly_one_more(fresh: KeyServer) -> None:
    from webhookverify.keyfetch import JwksSource

    serve_google_keys(fresh)
    clock = [time.time()]
    source = JwksSource(
        "https://www.googleapis.com/oauth2/v3/certs",
        fetcher=fresh.fetcher(),
        cache=KeyCache(clock=lambda: clock[0]),
    )
    verifier = presets.google_oidc(audience=AUDIENCE, service_account=ACCOUNT, keys=source)
    token = encode({"kid": "nope"}, {}, private_key("rsa", 2), "RS256")
    request = sign_request(google(fresh), b"{}").replace(
        headers={"Authorization": f"Bearer {token}"}
    )
    source.key("g0")
    clock[0] += MIN_REFETCH_INTERVAL
    for _ in range(100):
        with pytest.raises(VerificationError, match="does not publish"):
            verifier.verify(request)
        with pytest.raises(VerificationError, match="does not publish"):
            asyncio.run(verifier.averify(request))
    assert fresh.hits == {"www.googleapis.com/oauth2/v3/certs": 2}


def test_async_fetch_does_not_block_the_event_loop(fresh: KeyServer) -> None:
    serve_google_keys(fresh)
    fresh.routes[("www.googleapis.com", "/oauth2/v3/certs")].delay = 0.6
    verifier = google(fresh)
    request = sign_request(verifier, b"{}", now=time.time())

    async def main() -> tuple[int, Any]:
        ticks = 0
        task = asyncio.ensure_future(verifier.averify(request))
        while not task.done():
            ticks += 1
            await asyncio.sleep(0.01)
        return ticks, task.result()

    ticks, result = asyncio.run(main())
    assert result.key_id == "g0"
    assert ticks >= 20  # the loop kept running for the whole fetch


# -- the receiver and the apps: a provider that cannot be reached --------------------


def down_registry(server: KeyServer) -> tuple[HandlerRegistry, Any]:
    server.routes[("www.googleapis.com", "/oauth2/v3/certs")] = Route(b"unavailable", 503)
    verifier = google(server)
    return HandlerRegistry([Handler("pubsub", verifier)]), verifier


def test_provider_down_is_503_with_retry_after_sync(fresh: KeyServer) -> None:
    registry, verifier = down_registry(fresh)
    outcome = Receiver(registry, retry_after=17).receive(
        sign_request(verifier, b"{}", now=time.time())
    )
    assert (outcome.status, dict(outcome.headers)["Retry-After"]) == (503, "17")
    assert outcome.reason == "key_unavailable"


def test_provider_down_is_503_with_retry_after_async(fresh: KeyServer) -> None:
    registry, verifier = down_registry(fresh)
    receiver = Receiver(registry, retry_after=17)
    outcome = asyncio.run(receiver.areceive(sign_request(verifier, b"{}", now=time.time())))
    assert (outcome.status, dict(outcome.headers)["Retry-After"]) == (503, "17")


def test_forged_token_is_still_401_when_the_provider_is_up(fresh: KeyServer) -> None:
    serve_google_keys(fresh)
    verifier = google(fresh)
    registry = HandlerRegistry([Handler("pubsub", verifier)])
    request = sign_request(verifier, b"{}", now=time.time())
    bad = request.replace(headers={"Authorization": request.headers["Authorization"][:-4] + "AAAA"})
    assert Receiver(registry).receive(bad).status == 401
    assert asyncio.run(Receiver(registry).areceive(bad)).status == 401
    assert Receiver(registry).receive(request).status == 200


def test_provider_down_is_503_through_the_wsgi_app(fresh: KeyServer) -> None:
    registry, verifier = down_registry(fresh)
    app = wsgi_adapter.WebhookApp(Receiver(registry, retry_after=9))
    request = sign_request(
        verifier, b"{}", now=time.time(), url="https://hooks.example.test/pubsub"
    )
    response = run_wsgi(app, make_environ(request))
    assert response.status == 503
    assert response.headers.get("Retry-After") == "9"


def test_provider_down_is_503_through_the_asgi_app_under_the_test_client(fresh: KeyServer) -> None:
    from starlette.testclient import TestClient

    registry, verifier = down_registry(fresh)
    app = asgi_adapter.WebhookApp(Receiver(registry, retry_after=9))
    request = sign_request(verifier, b"{}", now=time.time())
    with TestClient(app) as client:
        response = client.post("/pubsub", content=request.body, headers=dict(request.headers))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "9"
    serve_google_keys(fresh)
    fresh.routes[("www.googleapis.com", "/oauth2/v3/certs")].status = 200
    time.sleep(0)  # the failed fetch is remembered: tried again only after the interval
    with TestClient(app) as client:
        response = client.post("/pubsub", content=request.body, headers=dict(request.headers))
    assert response.status_code == 503


def test_registry_averify_awaits_only_verifiers_that_have_it(fresh: KeyServer) -> None:
    serve_google_keys(fresh)
    github = presets.github(secret="s" * 20)
    registry = HandlerRegistry([Handler("github", github), Handler("pubsub", google(fresh))])
    request = sign_request(github, b"{}", now=time.time())
    assert asyncio.run(registry.averify(request)).handler.name == "github"
    request = sign_request(google(fresh), b"{}", now=time.time())
    assert asyncio.run(registry.averify(request)).handler.name == "pubsub"


# -- aws_sns --------------------------------------------------------------------------


def sns(server: KeyServer, url: str = SNS_CERT) -> Any:
    return presets.aws_sns(
        topics=[TOPIC],
        fetcher=server.fetcher(),
        private_key=private_key("rsa", 0),
        signing_cert_url=url,
    )


def serve_sns_cert(server: KeyServer, host: str = "sns.us-east-1.amazonaws.com") -> None:
    now = time.time()
    pem = certificate(private_key("rsa", 0), now - 86400, now + 86400)
    path = SNS_CERT.split("amazonaws.com", 1)[1]
    server.routes[(host, path)] = Route(pem)


def test_sns_certificate_fetched_from_the_sns_host(fresh: KeyServer) -> None:
    serve_sns_cert(fresh)
    verifier = sns(fresh)
    for version in ("1", "2"):
        body = verifier.message("hello", version=version)
        request = sign_request(verifier, body, now=time.time())
        assert verifier.verify(request).key_id == SNS_CERT
        assert asyncio.run(verifier.averify(request)).key_id == SNS_CERT
    assert sum(fresh.hits.values()) == 1


def test_sns_look_alike_host_is_never_fetched(fresh: KeyServer) -> None:
    evil = SNS_CERT.replace(".amazonaws.com/", ".amazonaws.com.evil.example/")
    serve_sns_cert(fresh, "sns.us-east-1.amazonaws.com.evil.example")
    verifier = sns(fresh, evil)
    request = sign_request(verifier, verifier.message("hello"), now=time.time())
    outcome = Receiver(HandlerRegistry([Handler("sns", verifier)])).receive(request)
    assert (outcome.status, outcome.rejection.attempts) == (401, (("sns", "key_url_refused"),))
    assert not fresh.hits


def test_sns_certificate_redirect_off_the_host_is_refused(fresh: KeyServer) -> None:
    path = SNS_CERT.split("amazonaws.com", 1)[1]
    fresh.routes[("sns.us-east-1.amazonaws.com", path)] = Route(
        b"", 301, {"Location": "https://other.example.test" + path}
    )
    fresh.routes[("other.example.test", path)] = Route(certificate(private_key("rsa", 0), 0, 4e9))
    verifier = sns(fresh)
    with pytest.raises(VerificationError) as info:
        verifier.verify(sign_request(verifier, verifier.message("hello"), now=time.time()))
    assert getattr(info.value, "reason", None) == "key_url_refused"
    assert "other.example.test" + path not in fresh.hits


def test_sns_expired_certificate_fails_closed(fresh: KeyServer) -> None:
    path = SNS_CERT.split("amazonaws.com", 1)[1]
    fresh.routes[("sns.us-east-1.amazonaws.com", path)] = Route(
        certificate(private_key("rsa", 0), time.time() - 7200, time.time() - 3600)
    )
    verifier = sns(fresh)
    outcome = Receiver(HandlerRegistry([Handler("sns", verifier)])).receive(
        sign_request(verifier, verifier.message("hello"), now=time.time())
    )
    assert outcome.status == 503


def test_sns_subscription_confirmation_through_a_fetch(fresh: KeyServer) -> None:
    serve_sns_cert(fresh)
    verifier = sns(fresh)
    body = verifier.message("confirm", type="SubscriptionConfirmation")
    request = sign_request(verifier, body, now=time.time())
    url = asyncio.run(verifier.asubscribe_url(request))
    assert url == json.loads(body)["SubscribeURL"]


# -- plaid ----------------------------------------------------------------------------


def test_plaid_key_fetched_by_id_with_a_post(fresh: KeyServer) -> None:
    key = private_key("ec", 0)
    answer = {
        "key": {
            **jwk(key, "6c5516e1-92dc-479e-a8ff-5a51992e0001", alg="ES256"),
            "created_at": 1560466150,
            "expired_at": None,
        },
        "request_id": "gTFJS",
    }
    fresh.routes[("production.plaid.com", "/webhook_verification_key/get")] = Route(
        json.dumps(answer).encode()
    )
    verifier = presets.plaid(client_id="client-1", secret="plaid-secret-1", fetcher=fresh.fetcher())
    body = b'{"webhook_type":"ITEM","webhook_code":"WEBHOOK_UPDATE_ACKNOWLEDGED"}'
    now = time.time()
    claims = {"iat": int(now), "request_body_sha256": hashlib.sha256(body).hexdigest()}
    token = encode(
        {"kid": "6c5516e1-92dc-479e-a8ff-5a51992e0001", "typ": "JWT"}, claims, key, "ES256"
    )
    request = sign_request(presets.github(secret="x" * 20), body, now=now).replace(
        headers={"Plaid-Verification": token}
    )
    assert verifier.verify(request).key_id == "6c5516e1-92dc-479e-a8ff-5a51992e0001"
    assert asyncio.run(verifier.averify(request)).scheme == "plaid-es256"
    assert json.loads(fresh.bodies[0]) == {
        "client_id": "client-1",
        "secret": "plaid-secret-1",
        "key_id": "6c5516e1-92dc-479e-a8ff-5a51992e0001",
    }
    assert sum(fresh.hits.values()) == 1


def test_plaid_expired_key_verifies_nothing_signed_after(fresh: KeyServer) -> None:
    key = private_key("ec", 0)
    now = time.time()
    answer = {"key": {**jwk(key, "old"), "created_at": 1, "expired_at": int(now) - 60}}
    fresh.routes["/webhook_verification_key/get"] = Route(json.dumps(answer).encode())
    verifier = presets.plaid(
        client_id="c", secret="s", environment="sandbox", fetcher=fresh.fetcher()
    )
    body = b"{}"
    claims = {"iat": int(now), "request_body_sha256": hashlib.sha256(body).hexdigest()}
    request = sign_request(presets.github(secret="x" * 20), body, now=now).replace(
        headers={"Plaid-Verification": encode({"kid": "old"}, claims, key, "ES256")}
    )
    for _ in range(3):  # the expired key stays cached: refused, not fetched again
        with pytest.raises(VerificationError) as info:
            verifier.verify(request)
        assert getattr(info.value, "reason", None) == "signature_mismatch"
    assert fresh.hits == {"sandbox.plaid.com/webhook_verification_key/get": 1}


# -- paypal ---------------------------------------------------------------------------


def test_paypal_certificate_fetched_from_paypal(fresh: KeyServer) -> None:
    url = "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77"
    now = time.time()
    fresh.routes[("api.sandbox.paypal.com", url.split(".com", 1)[1])] = Route(
        certificate(private_key("rsa", 0), now - 60, now + 86400)
    )
    verifier = presets.paypal(
        webhook_id="WH-1",
        environment="sandbox",
        fetcher=fresh.fetcher(),
        private_key=private_key("rsa", 0),
        signing_cert_url=url,
    )
    request = sign_request(verifier, b'{"id":"WH-1"}', now=now)
    assert verifier.verify(request).key_id == url
    live = presets.paypal(webhook_id="WH-1", fetcher=fresh.fetcher())
    with pytest.raises(VerificationError) as info:
        live.verify(request)
    assert getattr(info.value, "reason", None) == "key_url_refused"


def test_receiver_areceive_does_not_block_the_event_loop_on_a_fetch(fresh: KeyServer) -> None:
    serve_google_keys(fresh)
    fresh.routes[("www.googleapis.com", "/oauth2/v3/certs")].delay = 0.6
    verifier = google(fresh)
    receiver = Receiver(HandlerRegistry([Handler("pubsub", verifier)]))
    request = sign_request(verifier, b"{}", now=time.time())

    async def main() -> tuple[int, int]:
        ticks = 0
        task = asyncio.ensure_future(receiver.areceive(request))
        while not task.done():
            ticks += 1
            await asyncio.sleep(0.01)
        return ticks, task.result().status

    ticks, status = asyncio.run(main())
    assert status == 200
    assert ticks >= 20


# -- microsoft_graph ------------------------------------------------------------------


def test_graph_validation_token_keys_fetched_from_microsoft(fresh: KeyServer) -> None:
    fresh.routes[("login.microsoftonline.com", "/common/discovery/v2.0/keys")] = Route(
        jwks(jwk(private_key("rsa", 0), "m0", x5t="m0")), headers={"Cache-Control": "max-age=86400"}
    )
    verifier = presets.microsoft_graph(
        client_state="a-long-random-client-state",
        app_id="3c1b2a9e-0f4d-4b6e-9a51-7d2f8c0e1b23",
        fetcher=fresh.fetcher(),
        private_key=private_key("rsa", 0),
        signing_key_id="m0",
    )
    now = time.time()
    request = sign_request(verifier, verifier.notification("users/1", now=now), now=now)
    assert verifier.verify(request).scheme == "microsoft-graph-validation-token"
    assert asyncio.run(verifier.averify(request)).key_id == "secret[0]"
    assert fresh.hits == {"login.microsoftonline.com/common/discovery/v2.0/keys": 1}


def test_concurrent_async_requests_share_one_fetch(fresh: KeyServer) -> None:
    serve_google_keys(fresh)
    fresh.routes[("www.googleapis.com", "/oauth2/v3/certs")].delay = 0.3
    verifier = google(fresh)
    request = sign_request(verifier, b"{}", now=time.time())

    async def main() -> list[Any]:
        return await asyncio.gather(*(verifier.averify(request) for _ in range(20)))

    assert {result.key_id for result in asyncio.run(main())} == {"g0"}
    assert fresh.hits == {"www.googleapis.com/oauth2/v3/certs": 1}


def test_concurrent_async_requests_all_fail_closed_when_the_fetch_fails(fresh: KeyServer) -> None:
    fresh.routes[("www.googleapis.com", "/oauth2/v3/certs")] = Route(b"", 500, delay=0.2)
    verifier = google(fresh)
    request = sign_request(verifier, b"{}", now=time.time())

    async def main() -> list[Any]:
        calls = (verifier.averify(request) for _ in range(10))
        return await asyncio.gather(*calls, return_exceptions=True)

    reasons = {getattr(error, "reason", None) for error in asyncio.run(main())}
    assert reasons == {"key_unavailable"}
    assert fresh.hits == {"www.googleapis.com/oauth2/v3/certs": 1}


def test_the_503_is_logged_with_the_handler_and_the_cause(
    fresh: KeyServer, caplog: pytest.LogCaptureFixture
) -> None:
    registry, verifier = down_registry(fresh)
    with caplog.at_level("ERROR", logger="webhookverify"):
        Receiver(registry).receive(sign_request(verifier, b"{}", now=time.time()))
    assert "handler 'pubsub' could not fetch" in caplog.text
    assert "HTTP 503" in caplog.text


# -- aws_sns: messages AWS signed --------------------------------------------------------

# Two notifications SNS itself signed (SignatureVersion 1, SHA1; and 2, SHA256)
# with the certificate it served at their SigningCertURL, from the AWS SDK for
# Ruby's MessageVerifier tests (see tests/vectors/README.md, aws_sns/).
AWS_SIGNED = json.loads(
    (Path(__file__).parent / "vectors" / "aws_sns" / "aws_sdk_ruby.json").read_text()
)


def aws_signed_verifier(server: KeyServer, at: float) -> Any:
    from webhookverify.keyfetch import CertificateUrl
    from webhookverify.presets._aws_sns import SNS_CERT_HOSTS, SNS_CERT_PATH, SNS_REGION_LABEL

    url = AWS_SIGNED["signing_cert_url"]
    host, _, path = url.removeprefix("https://").partition("/")
    server.routes[(host, "/" + path)] = Route(AWS_SIGNED["certificate_pem"].encode())
    topics = [json.loads(m["body"])["TopicArn"] for m in AWS_SIGNED["messages"]]
    source = CertificateUrl(
        hosts=SNS_CERT_HOSTS,
        path=SNS_CERT_PATH,
        label=SNS_REGION_LABEL,
        fetcher=server.fetcher(),
        cache=KeyCache(clock=lambda: at),  # the certificate expired in 2022
    )
    return presets.aws_sns(topics=topics, keys=source)


def aws_signed_request(body: str) -> WebhookRequest:
    return WebhookRequest(
        method="POST",
        url="https://hooks.example.test/sns",
        headers={
            "Content-Type": "text/plain; charset=UTF-8",
            "x-amz-sns-message-type": "Notification",
        },
        body=body.encode(),
    )


@pytest.mark.parametrize("vector", AWS_SIGNED["messages"], ids=lambda v: v["id"])
def test_sns_messages_aws_signed_verify_with_the_certificate_aws_served(
    fresh: KeyServer, vector: dict[str, str]
) -> None:
    at = datetime.datetime.fromisoformat(vector["now"]).timestamp()
    verifier = aws_signed_verifier(fresh, at)
    message = json.loads(vector["body"])
    request = aws_signed_request(vector["body"])
    verification = verifier.verify(request, now=at)
    assert (verification.key_id, verification.delivery_id) == (
        AWS_SIGNED["signing_cert_url"],
        message["MessageId"],
    )
    assert asyncio.run(verifier.averify(request, now=at)).delivery_id == message["MessageId"]
    # one signed field changed, or the version claimed swapped: refused
    for field, value in (
        ("Message", "Hello world!"),
        ("MessageId", "00000000-518f-5dd3-9163-81d851212f3a"),
        ("SignatureVersion", "2" if message["SignatureVersion"] == "1" else "1"),
    ):
        forged = aws_signed_request(json.dumps({**message, field: value}))
        with pytest.raises(VerificationError):
            verifier.verify(forged, now=at)
    # its key is the signed MessageId: the same message again is a duplicate
    receiver = Receiver(HandlerRegistry([Handler("sns", verifier)]))
    first, again = (receiver.receive(request, now=at) for _ in range(2))
    assert (first.status, first.reason, again.status, again.reason) == (
        200, "accepted", 200, "duplicate",
    )  # fmt: skip
    assert fresh.hits == {AWS_SIGNED["signing_cert_url"].removeprefix("https://"): 1}


def test_sns_certificate_aws_served_is_refused_once_expired(fresh: KeyServer) -> None:
    vector = AWS_SIGNED["messages"][0]
    verifier = aws_signed_verifier(fresh, time.time())
    outcome = Receiver(HandlerRegistry([Handler("sns", verifier)])).receive(
        aws_signed_request(vector["body"]),
        now=datetime.datetime.fromisoformat(vector["now"]).timestamp(),
    )
    assert outcome.status == 503  # fails closed: SNS retries, nothing is accepted
