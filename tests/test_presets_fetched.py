"""The fetched-key presets under the verifier contract, with their keys given
(``keyfetch.FixedKeys``): google_oidc, aws_sns, plaid, paypal. Fetching,
pinning and the receiver's answers are in test_presets_fetched_live.py."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from webhookverify import Secret, VerificationError, WebhookRequest, presets
from webhookverify.keyfetch import FixedKeys
from webhookverify.keyfetch.jws import encode
from webhookverify.testing import sign_request

from _keyserver import pem_public, private_key
from contract import NOW, VerifierContract

AUDIENCE = "https://hooks.example.test/pubsub"
ACCOUNT = "push@example-project.iam.gserviceaccount.com"
TOPIC = "arn:aws:sns:us-east-1:123456789012:MyTopic"
WEBHOOK_ID = "1JE4291016473214C"


@dataclass(frozen=True)
class KeyPair:
    public: Secret  # the public key's PEM, with the contract's key id and window
    private: Any


def sns_url(key_id: str) -> str:
    digest = hashlib.md5(key_id.encode()).hexdigest()
    return f"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-{digest}.pem"


def paypal_url(key_id: str) -> str:
    return f"https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-{key_id}"


class FetchedContract(VerifierContract):
    kind: ClassVar[str] = "rsa"

    def new_key(self, index: int, **window: float) -> KeyPair:
        key = private_key(self.kind, index)
        return KeyPair(Secret(pem_public(key), key_id=f"k{index}", **window), key)

    def test_wrong_key_rejected(self) -> None:
        # the request names a configured key but was signed by another one
        forger = KeyPair(self.new_key(0).public, self.new_key(1).private)
        verifier = self.make([self.new_key(0)])
        with pytest.raises(VerificationError) as info:
            verifier.verify(self.signed(self.make([forger])), now=NOW)
        assert info.value.reason == "signature_mismatch"

    def test_key_not_configured_is_unknown(self) -> None:
        signer = self.make([self.new_key(0)])
        verifier = self.make([self.new_key(1)])
        with pytest.raises(VerificationError) as info:
            verifier.verify(self.signed(signer), now=NOW)
        assert info.value.reason == "unknown_key"


class TokenOnlyContract(FetchedContract):
    """For senders whose token signs nothing of the body: the body is not checked."""

    @pytest.mark.parametrize("where", ["anything", ""])
    def test_altered_body_rejected(self, where: str) -> None:
        verifier = self.make([self.new_key(0)])
        verifier.verify(self.signed(verifier).replace(body=where.encode()), now=NOW)
        assert verifier.replay_default == "off"

    def test_property_round_trip_and_any_flip(self) -> None:
        verifier = self.make([self.new_key(0)])
        assert verifier.verify(self.signed(verifier, body=b"\x00\xff"), now=NOW).key_id == "k0"

    def test_garbage_body_gives_only_verification_errors(self) -> None:
        verifier = self.make([self.new_key(0)])
        verifier.verify(self.signed(verifier).replace(body=b"\xff"), now=NOW)


# -- google_oidc ----------------------------------------------------------------------


def google(keys: list[KeyPair], **options: Any) -> Any:
    return presets.google_oidc(
        audience=AUDIENCE,
        service_account=ACCOUNT,
        keys=FixedKeys([k.public for k in keys]),
        private_key=keys[-1].private,
        signing_key_id=keys[-1].public.key_id,
        **options,
    )


class TestGoogleOidcContract(TokenOnlyContract):
    def make(self, keys: list[KeyPair]) -> Any:
        return google(keys)


def google_token(
    claims: dict[str, Any], *, key: Any = None, alg: str = "RS256", kid: str = "k0"
) -> str:
    base = {
        "iss": "https://accounts.google.com",
        "aud": AUDIENCE,
        "email": ACCOUNT,
        "email_verified": True,
        "iat": int(NOW),
        "exp": int(NOW) + 3600,
    }
    return encode({"kid": kid, "typ": "JWT"}, {**base, **claims}, key or private_key("rsa", 0), alg)


def bearer(token: str) -> WebhookRequest:
    return WebhookRequest(
        method="POST",
        url=AUDIENCE,
        headers={"Authorization": f"Bearer {token}"},
        body=b"{}",
        received_at=NOW,
    )


def test_google_token_as_documented_verifies() -> None:
    # Google's documented claim set for a Pub/Sub push token (Cloud Pub/Sub,
    # "Authenticate push subscriptions"), signed by a local test key.
    verifier = google([KeyPair(Secret(pem_public(private_key("rsa", 0)), key_id="k0"), None)])
    token = google_token({"azp": "1234567890", "sub": "1234567890", "iss": "accounts.google.com"})
    result = verifier.verify(bearer(token), now=NOW)
    assert (result.scheme, result.key_id, result.timestamp) == ("google-oidc-rs256", "k0", NOW)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(NOW) - 301}, "timestamp_too_old"),
        ({"iat": int(NOW) + 301}, "timestamp_in_future"),
        ({"aud": "https://elsewhere.example/push"}, "claim_mismatch"),
        ({"aud": ["https://elsewhere.example/push"]}, "claim_mismatch"),
        ({"iss": "https://evil.example"}, "claim_mismatch"),
        ({"email": "someone@example-project.iam.gserviceaccount.com"}, "claim_mismatch"),
        ({"email_verified": False}, "claim_mismatch"),
        ({"exp": None}, "claim_mismatch"),
        ({"exp": "soon"}, "malformed_header"),
    ],
)
def test_google_claims_are_held_to_the_configuration(claims: dict[str, Any], reason: str) -> None:
    verifier = google([KeyPair(Secret(pem_public(private_key("rsa", 0)), key_id="k0"), None)])
    with pytest.raises(VerificationError) as info:
        verifier.verify(bearer(google_token(claims)), now=NOW)
    assert info.value.reason == reason


def test_google_audience_list_accepts_any_configured() -> None:
    keys = [KeyPair(Secret(pem_public(private_key("rsa", 0)), key_id="k0"), None)]
    verifier = google(keys)
    token = google_token({"aud": ["other", AUDIENCE]})
    assert verifier.verify(bearer(token), now=NOW).key_id == "k0"


def hs256_with_public_key(claims: dict[str, Any]) -> str:
    """The classic confusion: HS256, the public key's PEM as the HMAC secret."""
    import base64
    import hmac

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "kid": "k0"}).encode())
    body = b64(json.dumps(claims).encode())
    mac = hmac.new(pem_public(private_key("rsa", 0)), f"{head}.{body}".encode(), "sha256")
    return f"{head}.{body}.{b64(mac.digest())}"


def unsigned(claims: dict[str, Any]) -> str:
    import base64

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{b64(json.dumps({'alg': 'none', 'kid': 'k0'}).encode())}.{b64(json.dumps(claims).encode())}.AA"


@pytest.mark.parametrize("forge", [hs256_with_public_key, unsigned])
def test_google_algorithm_comes_from_the_configuration(forge: Any) -> None:
    verifier = google([KeyPair(Secret(pem_public(private_key("rsa", 0)), key_id="k0"), None)])
    claims = {"iss": "accounts.google.com", "aud": AUDIENCE, "email": ACCOUNT}
    claims |= {"email_verified": True, "iat": int(NOW), "exp": int(NOW) + 3600}
    with pytest.raises(VerificationError) as info:
        verifier.verify(bearer(forge(claims)), now=NOW)
    assert info.value.reason == "unsupported_signature_version"


def test_google_key_of_another_type_is_refused() -> None:
    # an EC key published under the kid: RS256 is configured, so it is not used
    ec_key = private_key("ec", 0)
    verifier = google([KeyPair(Secret(pem_public(ec_key), key_id="k0"), None)])
    token = google_token({}, key=ec_key, alg="ES256")
    with pytest.raises(VerificationError):
        verifier.verify(bearer(token), now=NOW)
    with pytest.raises(VerificationError) as info:
        verifier.verify(bearer(google_token({})), now=NOW)
    assert info.value.reason == "unsupported_signature_version"


# -- aws_sns --------------------------------------------------------------------------


def sns(keys: list[KeyPair], **options: Any) -> Any:
    return presets.aws_sns(
        topics=[TOPIC],
        keys=FixedKeys({sns_url(k.public.key_id or ""): k.public for k in keys}),
        private_key=keys[-1].private,
        signing_cert_url=sns_url(keys[-1].public.key_id or ""),
        **options,
    )


def sns_request(verifier: Any, text: str, now: float = NOW, **fields: Any) -> WebhookRequest:
    body = verifier.message(text, now=now, **fields)
    return sign_request(verifier, body, now=now, received_at=NOW)


class TestAwsSnsContract(FetchedContract):
    signs_timestamp = True
    tolerance = 3600.0
    future_tolerance = 300.0

    def make(self, keys: list[KeyPair]) -> Any:
        return sns(keys)

    def signed(self, verifier: Any, body: bytes | None = None, now: float = NOW) -> WebhookRequest:
        text = (self.body if body is None else body).decode("latin-1")
        return sns_request(verifier, text, now)

    @pytest.mark.parametrize("where", ["first", "middle", "last", "append", "truncate"])
    def test_altered_body_rejected(self, where: str) -> None:
        if where != "append":
            super().test_altered_body_rejected(where)
            return
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        with pytest.raises(VerificationError):
            verifier.verify(request.replace(body=request.body + b"x"), now=NOW)

    def test_whitespace_around_the_json_changes_nothing_signed(self) -> None:
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        pretty = json.dumps(json.loads(request.body), indent=2).encode()  # as SNS sends it
        assert verifier.verify(request.replace(body=pretty), now=NOW).signed == (
            verifier.verify(request, now=NOW).signed
        )


@pytest.mark.parametrize("version", ["1", "2"])
def test_sns_both_signature_versions(version: str) -> None:
    verifier = sns(
        [
            KeyPair(
                self_key := Secret(pem_public(private_key("rsa", 0)), key_id="k0"),
                private_key("rsa", 0),
            )
        ]
    )
    del self_key
    request = sns_request(verifier, "hello", version=version, subject="Hi", message_id="m-1")
    result = verifier.verify(request, now=NOW)
    assert (result.scheme, result.delivery_id) == (f"aws-sns-v{version}", "m-1")
    only_two = sns(
        [KeyPair(Secret(pem_public(private_key("rsa", 0)), key_id="k0"), private_key("rsa", 0))],
        signature_versions=["2"],
    )
    if version == "1":
        with pytest.raises(VerificationError) as info:
            only_two.verify(request, now=NOW)
        assert info.value.reason == "unsupported_signature_version"


def sns_pair() -> list[KeyPair]:
    key = private_key("rsa", 0)
    return [KeyPair(Secret(pem_public(key), key_id="k0"), key)]


def test_sns_topic_not_allowed_is_refused() -> None:
    verifier = sns(sns_pair())
    other = presets.aws_sns(
        topics=["arn:aws:sns:us-east-1:123456789012:Other"],
        keys=FixedKeys({sns_url("k0"): sns_pair()[0].public}),
    )
    request = sns_request(verifier, "hello")
    with pytest.raises(VerificationError) as info:
        other.verify(request, now=NOW)
    assert info.value.reason == "claim_mismatch"


@pytest.mark.parametrize(
    "url",
    [
        "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem",
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem",
        "https://evil.example/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem",
        "https://sns.us-east-1.amazonaws.com/evil.pem",
    ],
)
def test_sns_certificate_url_off_the_sns_hosts_is_refused(url: str) -> None:
    # even with a key source that would serve it: the verifier pins the URL itself
    key = private_key("rsa", 0)
    pair = KeyPair(Secret(pem_public(key), key_id="k0"), key)
    verifier = presets.aws_sns(
        topics=[TOPIC], keys=FixedKeys({url: pair.public}), private_key=key, signing_cert_url=url
    )
    with pytest.raises(VerificationError) as info:
        verifier.verify(sns_request(verifier, "hello"), now=NOW)
    assert info.value.reason == "key_url_refused"


def test_sns_headers_must_agree_with_the_signed_message() -> None:
    verifier = sns(sns_pair())
    request = sns_request(verifier, "hello")
    for name, value in (
        ("x-amz-sns-message-type", "SubscriptionConfirmation"),
        ("x-amz-sns-topic-arn", "arn:aws:sns:us-east-1:123456789012:Other"),
        ("x-amz-sns-message-id", "another"),
    ):
        headers = {k: v for k, v in request.headers.items() if k.lower() != name}
        with pytest.raises(VerificationError):
            verifier.verify(request.replace(headers={**headers, name: value}), now=NOW)


def test_sns_subscription_confirmation_url_only_after_verification() -> None:
    verifier = sns(sns_pair())
    confirm = sns_request(verifier, "You have chosen to subscribe", type="SubscriptionConfirmation")
    url = verifier.subscribe_url(confirm, now=NOW)
    assert url is not None
    assert url.startswith("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription")
    assert verifier.subscribe_url(sns_request(verifier, "n"), now=NOW) is None  # a Notification
    # a forged confirmation (its SubscribeURL changed) gives no URL to visit
    message = json.loads(confirm.body)
    message["SubscribeURL"] = "https://evil.example/confirm"
    with pytest.raises(VerificationError):
        verifier.subscribe_url(confirm.replace(body=json.dumps(message).encode()), now=NOW)
    # a topic not allowed gives none either
    other = presets.aws_sns(
        topics=["arn:aws:sns:us-east-1:123456789012:Other"],
        keys=FixedKeys({sns_url("k0"): sns_pair()[0].public}),
    )
    with pytest.raises(VerificationError):
        other.subscribe_url(confirm, now=NOW)


def test_sns_documented_sample_message_shape() -> None:
    # The Notification example of the SNS Developer Guide ("HTTP/HTTPS
    # notification JSON format"). Its Signature is AWS's placeholder
    # ("EXAMPLE..."), so it must be refused; its SigningCertURL passes the pin.
    sample = {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
        "Subject": "My First Message",
        "Message": "Hello world!",
        "Timestamp": "2012-05-02T00:54:06.655Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLEw6JRNwm1LFQL4ICB0bnXrdB8ClRMTQFGBqwLpGbM78tJ4etTwC5zU7O3tS6tGpey3ejedNdOJ+1fkIp9F2/LmNVKb5aFlYq+9rk9ZiPph5YlLmWsDcyC5T+Sy9/umic5S0UQc2PEtgdpVBahwNOdMW4JPwk0kAJJztnc=",
        "SigningCertURL": "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
        "UnsubscribeURL": "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:123456789012:MyTopic:c9135db0-26c4-47ec-8998-413945fb5a96",
    }
    from webhookverify.presets._aws_sns import string_to_sign

    assert string_to_sign(sample) == (
        b"Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n"
        b"Subject\nMy First Message\nTimestamp\n2012-05-02T00:54:06.655Z\n"
        b"TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nNotification\n"
    )
    verifier = presets.aws_sns(
        topics=[sample["TopicArn"]],
        keys=FixedKeys({sample["SigningCertURL"]: pem_public(private_key("rsa", 0))}),
        tolerance=None,
    )
    request = WebhookRequest(
        method="POST",
        url="https://hooks.example.test/sns",
        headers={"x-amz-sns-message-type": "Notification"},
        body=json.dumps(sample, indent=2).encode(),
    )
    with pytest.raises(VerificationError) as info:
        verifier.verify(request, now=1335920046.0)
    assert info.value.reason == "signature_mismatch"


def test_sns_configuration_errors() -> None:
    from webhookverify import ConfigurationError

    for options in (
        {"topics": []},
        {"topics": ["MyTopic"]},
        {"topics": [TOPIC], "signature_versions": ["3"]},
    ):
        with pytest.raises(ConfigurationError, match=r"presets\.aws_sns"):
            presets.aws_sns(**options)


# -- plaid ----------------------------------------------------------------------------


class TestPlaidContract(FetchedContract):
    kind = "ec"
    signs_timestamp = True

    def make(self, keys: list[KeyPair]) -> Any:
        return presets.plaid(
            keys=FixedKeys([k.public for k in keys]),
            private_key=keys[-1].private,
            signing_key_id=keys[-1].public.key_id,
        )


def plaid_request(
    body: bytes, claims: dict[str, Any], alg: str = "ES256", key: Any = None
) -> WebhookRequest:
    token = encode({"kid": "k0"}, claims, key or private_key("ec", 0), alg)
    return WebhookRequest(
        method="POST",
        url="https://hooks.example.test/plaid",
        headers={"Plaid-Verification": token},
        body=body,
        received_at=NOW,
    )


def test_plaid_body_hash_must_match() -> None:
    verifier = presets.plaid(
        keys=FixedKeys([Secret(pem_public(private_key("ec", 0)), key_id="k0")])
    )
    body = b'{"webhook_type":"TRANSACTIONS","webhook_code":"DEFAULT_UPDATE"}'
    good = {"iat": int(NOW), "request_body_sha256": hashlib.sha256(body).hexdigest()}
    assert verifier.verify(plaid_request(body, good), now=NOW).key_id == "k0"
    for claims in (
        {**good, "request_body_sha256": hashlib.sha256(b"other").hexdigest()},
        {**good, "request_body_sha256": None},
        {"iat": int(NOW)},
    ):
        with pytest.raises(VerificationError) as info:
            verifier.verify(plaid_request(body, claims), now=NOW)
        assert info.value.reason == "claim_mismatch"
    with pytest.raises(VerificationError) as info:
        verifier.verify(plaid_request(body, {**good, "iat": None}), now=NOW)
    assert info.value.reason == "claim_mismatch"
    with pytest.raises(VerificationError) as info:  # RS256 where ES256 is configured
        verifier.verify(plaid_request(body, good, "RS256", private_key("rsa", 0)), now=NOW)
    assert info.value.reason == "unsupported_signature_version"


def test_plaid_needs_credentials_to_fetch() -> None:
    from webhookverify import ConfigurationError

    with pytest.raises(ConfigurationError, match="client_id"):
        presets.plaid()
    with pytest.raises(ConfigurationError, match="environment"):
        presets.plaid(client_id="id", secret="s", environment="development")  # type: ignore[arg-type]


# -- paypal ---------------------------------------------------------------------------


class TestPaypalContract(FetchedContract):
    signs_timestamp = True

    def make(self, keys: list[KeyPair]) -> Any:
        return presets.paypal(
            webhook_id=WEBHOOK_ID,
            keys=FixedKeys({paypal_url(k.public.key_id or ""): k.public for k in keys}),
            private_key=keys[-1].private,
            signing_cert_url=paypal_url(keys[-1].public.key_id or ""),
        )

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return verifier.required_headers  # type: ignore[no-any-return]


def test_paypal_signed_string_is_the_sdks() -> None:
    import base64
    import zlib

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    key = private_key("rsa", 0)
    verifier = TestPaypalContract().make([KeyPair(Secret(pem_public(key), key_id="k0"), key)])
    body = b'{"id":"WH-2WR32451HC0233532-67976317FL4543714","event_type":"PAYMENT.SALE.COMPLETED"}'
    request = sign_request(verifier, body, now=NOW, id="69cd13f0-d67a-11e5-baa3-778b53f4ae55")
    headers = request.headers
    expected = (
        f"69cd13f0-d67a-11e5-baa3-778b53f4ae55|{headers['PAYPAL-TRANSMISSION-TIME']}|{WEBHOOK_ID}|"
        f"{zlib.crc32(body)}"
    ).encode()
    key.public_key().verify(
        base64.b64decode(headers["PAYPAL-TRANSMISSION-SIG"]),
        expected,
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    result = verifier.verify(request, now=NOW)
    assert result.delivery_id == "69cd13f0-d67a-11e5-baa3-778b53f4ae55"
    assert result.signed == (expected,)
    other = presets.paypal(webhook_id="OTHER", keys=FixedKeys({paypal_url("k0"): pem_public(key)}))
    with pytest.raises(VerificationError):
        other.verify(request, now=NOW)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.paypal.com.evil.example/v1/notifications/certs/CERT-1",
        "http://api.paypal.com/v1/notifications/certs/CERT-1",
        "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-1",  # sandbox host, live app
        "https://api.paypal.com/v1/oauth2/token",
    ],
)
def test_paypal_certificate_url_is_pinned(url: str) -> None:
    key = private_key("rsa", 0)
    verifier = presets.paypal(
        webhook_id=WEBHOOK_ID,
        keys=FixedKeys({url: pem_public(key)}),
        private_key=key,
        signing_cert_url=url,
    )
    with pytest.raises(VerificationError) as info:
        verifier.verify(sign_request(verifier, b"{}", now=NOW), now=NOW)
    assert info.value.reason == "key_url_refused"


def test_paypal_algorithm_header_is_pinned() -> None:
    key = private_key("rsa", 0)
    verifier = TestPaypalContract().make([KeyPair(Secret(pem_public(key), key_id="k0"), key)])
    request = sign_request(verifier, b"{}", now=NOW)
    headers = {**request.headers, "PAYPAL-AUTH-ALGO": "SHA1withRSA"}
    with pytest.raises(VerificationError) as info:
        verifier.verify(request.replace(headers=headers), now=NOW)
    assert info.value.reason == "unsupported_signature_version"


# -- microsoft_graph ------------------------------------------------------------------

APP_ID = "3c1b2a9e-0f4d-4b6e-9a51-7d2f8c0e1b23"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


class TestMicrosoftGraphBasicContract(VerifierContract):
    """Basic notifications: the client state in the body is the credential."""

    def make(self, keys: list[Any]) -> Any:
        return presets.microsoft_graph(client_states=keys)

    def signed(self, verifier: Any, body: bytes | None = None, now: float = NOW) -> WebhookRequest:
        resource = (self.body if body is None else body).decode("latin-1")
        return sign_request(
            verifier, verifier.notification(resource, now=now), now=now, received_at=NOW
        )

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return ()  # nothing in a header is a credential

    @pytest.mark.parametrize("where", ["client state", "truncate"])
    def test_altered_body_rejected(self, where: str) -> None:
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        batch = json.loads(request.body)
        if where == "client state":
            batch["value"][0]["clientState"] = batch["value"][0]["clientState"][:-1] + "x"
            body = json.dumps(batch).encode()
        else:
            body = request.body[:-1]
        with pytest.raises(VerificationError):
            verifier.verify(request.replace(body=body), now=NOW)
        # the rest of a notification is not signed: it is up to the sender's TLS
        batch = json.loads(request.body)
        batch["value"][0]["resource"] = "users/someone-else"
        verifier.verify(request.replace(body=json.dumps(batch).encode()), now=NOW)
        assert verifier.replay_default == "off"

    def test_property_round_trip_and_any_flip(self) -> None:
        verifier = self.make([self.new_key(0)])
        assert verifier.verify(self.signed(verifier, body=b"\x00\xff"), now=NOW).key_id == "k0"

    def test_every_notification_in_the_batch_needs_the_client_state(self) -> None:
        verifier = self.make([self.new_key(0)])
        batch = json.loads(self.signed(verifier).body)
        batch["value"].append({**batch["value"][0], "clientState": "guess"})
        request = self.signed(verifier).replace(body=json.dumps(batch).encode())
        with pytest.raises(VerificationError) as info:
            verifier.verify(request, now=NOW)
        assert info.value.reason == "signature_mismatch"


def graph_rich(keys: list[KeyPair], **options: Any) -> Any:
    return presets.microsoft_graph(
        client_state="a-long-random-client-state",
        app_id=APP_ID,
        keys=FixedKeys([k.public for k in keys]),
        private_key=keys[-1].private,
        signing_key_id=keys[-1].public.key_id,
        **options,
    )


def graph_request(verifier: Any, tokens: list[str] | None = None) -> WebhookRequest:
    body = verifier.notification("users/1/messages", now=NOW, tenant=TENANT)
    if tokens is not None:
        batch = json.loads(body)
        batch["validationTokens"] = tokens
        body = json.dumps(batch).encode()
    return sign_request(verifier, body, now=NOW)


def graph_token(claims: dict[str, Any], alg: str = "RS256", key: Any = None) -> str:
    base = {
        "iss": f"https://sts.windows.net/{TENANT}/",
        "aud": APP_ID,
        "appid": "0bf30f3b-4a52-48df-9a82-234910c4a086",
        "tid": TENANT,
        "iat": int(NOW),
        "exp": int(NOW) + 3600,
    }
    return encode({"kid": "k0"}, {**base, **claims}, key or private_key("rsa", 0), alg)


def test_graph_rich_notification_validation_tokens() -> None:
    key = private_key("rsa", 0)
    verifier = graph_rich([KeyPair(Secret(pem_public(key), key_id="k0"), key)])
    result = verifier.verify(graph_request(verifier), now=NOW)
    assert result.scheme == "microsoft-graph-validation-token"
    v2 = {"iss": f"https://login.microsoftonline.com/{TENANT}/v2.0", "appid": None}
    v2["azp"] = "0bf30f3b-4a52-48df-9a82-234910c4a086"
    verifier.verify(graph_request(verifier, [graph_token(v2)]), now=NOW)
    pinned = graph_rich(
        [KeyPair(Secret(pem_public(key), key_id="k0"), key)],
        tenant_ids=["00000000-0000-0000-0000-000000000000"],
    )
    with pytest.raises(VerificationError):
        pinned.verify(graph_request(verifier), now=NOW)


@pytest.mark.parametrize(
    ("tokens", "reason"),
    [
        (None, None),
        ([], "signature_mismatch"),
        ([graph_token({"aud": "another-app"})], "claim_mismatch"),
        ([graph_token({"appid": "someone-else"})], "claim_mismatch"),
        ([graph_token({"iss": "https://sts.windows.net/evil/"})], "claim_mismatch"),
        ([graph_token({"exp": int(NOW) - 400})], "timestamp_too_old"),
        ([graph_token({}, "ES256", private_key("ec", 0))], "unsupported_signature_version"),
        ([graph_token({}, key=private_key("rsa", 1))], "signature_mismatch"),
        ([graph_token({}), graph_token({"aud": "x"})], "claim_mismatch"),
    ],
)
def test_graph_validation_tokens_are_all_checked(
    tokens: list[str] | None, reason: str | None
) -> None:
    key = private_key("rsa", 0)
    verifier = graph_rich([KeyPair(Secret(pem_public(key), key_id="k0"), key)])
    request = graph_request(verifier)
    if tokens is None:  # the batch as sent, without its tokens
        batch = json.loads(request.body)
        del batch["validationTokens"]
        request = request.replace(body=json.dumps(batch).encode())
        reason = "signature_mismatch"
    else:
        request = graph_request(verifier, tokens)
    with pytest.raises(VerificationError) as info:
        verifier.verify(request, now=NOW)
    assert info.value.reason == reason
