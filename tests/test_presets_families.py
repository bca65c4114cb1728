"""The presets package as a whole: what it exports, how presets name themselves.

Every preset reports a configuration mistake under the name the caller wrote
(``presets.github needs a secret``), and every ``Verification.scheme`` is the
preset's name followed by what was verified (``github-hmac-sha256``).
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from webhookverify import ConfigurationError, Handler, TokenVerifier, presets
from webhookverify.audit import describe_handler
from webhookverify.presets import _handshakes

from _fetched_cases import FETCHED
from _fetched_cases import settings as fetched_settings
from fuzzing import NOW, URL, build_case

# What ``webhookverify.presets`` exported before its modules were grouped by
# family: none of it may disappear.
EXPORTED = frozenset(
    {
        "PRESETS",
        "BoxVerifier",
        "LinearVerifier",
        "MailgunVerifier",
        "MollieVerifier",
        "NetlifyVerifier",
        "bitbucket",
        "box",
        "calendly",
        "circleci",
        "clerk",
        "coinbase_commerce",
        "discord",
        "dropbox",
        "dropbox_challenge",
        "github",
        "gitlab",
        "gitlab_signing",
        "hubspot",
        "intercom",
        "jira",
        "linear",
        "mailgun",
        "mandrill",
        "meta",
        "mollie",
        "netlify",
        "okta",
        "okta_verification",
        "paddle",
        "razorpay",
        "resend",
        "sendgrid",
        "sentry",
        "shopify",
        "slack",
        "square",
        "standard_webhooks",
        "stripe",
        "svix",
        "tiki",
        "trello",
        "twilio",
        "twitch",
        "typeform",
        "vercel",
        "zoom",
        "zoom_url_validation",
    }
)
PUBLIC_KEY = frozenset({"apple_app_store", "discord", "sendgrid", "telnyx"})


def _required(name: str) -> dict[str, Any]:
    """The settings other than keys that a preset cannot do without."""
    if name in FETCHED:
        return {}
    if name == "monday":
        return {"url": URL}
    if name == "braintree":
        return {"public_key": "public_key"}
    return {"callback_url": URL} if name == "trello" else {}


def _public_names() -> set[str]:
    # identifiers only: under pytest, assertion rewriting adds @py_builtins and @pytest_ar
    return {name for name in dir(presets) if name.isidentifier() and not name.startswith("_")}


def test_every_name_exported_before_is_still_exported() -> None:
    assert set(presets.__all__) >= EXPORTED
    assert _public_names() >= EXPORTED
    assert _public_names() == set(presets.__all__)
    assert len(presets.__all__) == len(set(presets.__all__))


def test_presets_lists_every_public_factory_and_nothing_else() -> None:
    functions = {name for name in _public_names() if inspect.isfunction(getattr(presets, name))}
    handshakes = set(_handshakes.__all__)
    assert handshakes <= functions
    assert set(presets.PRESETS) == functions - handshakes
    assert len(presets.PRESETS) == len(set(presets.PRESETS))
    for name in presets.PRESETS:
        assert hasattr(getattr(presets, name)(**_keys(name), **_required(name)), "verify"), name


def test_presets_are_listed_in_alphabetical_order() -> None:
    # docs/presets.md, `webhookverify sign --preset` and configuration errors
    # list them in this order
    assert list(presets.PRESETS) == sorted(presets.PRESETS)


SECRET = "whsec_" + "QUJD" * 8  # base64, as Standard Webhooks secrets must be


def _keys(name: str) -> dict[str, Any]:
    if name == "apple_app_store":  # no key: the chain is in the message, the root pinned
        return {"bundle_id": "com.example", "app_apple_id": 1234}
    if name in FETCHED:  # the key is the sender's, fetched; these name whose it is
        return fetched_settings(name)
    if name in ("discord", "telnyx"):
        return {"public_key": ed25519.Ed25519PrivateKey.generate().public_key()}
    if name == "sendgrid":
        return {"public_key": ec.generate_private_key(ec.SECP256R1()).public_key()}
    if name in ("squarespace", "close", "adyen"):  # a hex secret, hex-decoded into the key
        return {"secret": SECRET.encode().hex()}
    return {"secret": SECRET}


@pytest.mark.parametrize("name", presets.PRESETS)
def test_a_missing_secret_names_the_preset_called(name: str) -> None:
    factory = getattr(presets, name)
    if name != "asana":  # built without one: Asana hands it over in its handshake
        with pytest.raises(ConfigurationError, match=rf"^presets\.{name} needs "):
            factory(**_required(name))
    if name not in PUBLIC_KEY | FETCHED:
        with pytest.raises(ConfigurationError, match=rf"^presets\.{name} takes secret="):
            factory(secret=SECRET, secrets=[SECRET], **_required(name))
        with pytest.raises(ConfigurationError, match=rf"^presets\.{name}\(secrets=\.\.\.\)"):
            factory(secrets="one", **_required(name))
        with pytest.raises(ConfigurationError, match="secret"):
            factory(secret="", **_required(name))


@pytest.mark.parametrize(
    "name",
    [
        n
        for n in presets.PRESETS
        if "tolerance" in inspect.signature(getattr(presets, n)).parameters
    ],
)
def test_a_bad_tolerance_names_the_preset_called(name: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"^presets\.{name}\(tolerance=\.\.\.\)"):
        getattr(presets, name)(**_keys(name), tolerance=-1)
    with pytest.raises(ConfigurationError, match=rf"^presets\.{name}\(future_tolerance=\.\.\.\)"):
        getattr(presets, name)(**_keys(name), future_tolerance=-1)


@pytest.mark.parametrize("name", presets.PRESETS)
def test_scheme_is_the_preset_name_then_what_was_verified(name: str) -> None:
    case = build_case(name)
    scheme = case.verifier.verify(case.request, now=NOW).scheme
    slug = name.replace("_", "-")
    assert scheme.startswith(slug + "-") and len(scheme) > len(slug) + 1, scheme


def test_schemes_name_the_mechanism() -> None:
    expected = {
        "github": "github-hmac-sha256",
        "stripe": "stripe-hmac-sha256",
        "vercel": "vercel-hmac-sha1",
        "coinbase_commerce": "coinbase-commerce-hmac-sha256",
        "twilio": "twilio-hmac-sha1",
        "hubspot": "hubspot-v3",
        "gitlab_signing": "gitlab-signing-v1",
        "standard_webhooks": "standard-webhooks-v1",
        "discord": "discord-ed25519",
        "netlify": "netlify-jws-hs256",
        "gitlab": "gitlab-token",
        "okta": "okta-token",
    }
    for name, scheme in expected.items():
        case = build_case(name)
        assert case.verifier.verify(case.request, now=NOW).scheme == scheme


def test_bespoke_factories_sit_beside_their_verifiers() -> None:
    for name in ("box", "hubspot", "linear", "mailgun", "mollie", "netlify", "persona", "twilio"):
        verifier = getattr(presets, name)(secret="k")
        assert getattr(presets, name).__module__ == type(verifier).__module__, name


@pytest.mark.parametrize("url", [None, "", "ftp://x.test/", "/relative"])
def test_trello_callback_url_is_checked_with_its_own_name(url: Any) -> None:
    # callback_url=None used to fail inside the preset with an AttributeError
    with pytest.raises(ConfigurationError, match=r"^presets\.trello\(callback_url=\.\.\.\)"):
        presets.trello(secret="k", callback_url=url)


def test_zoom_url_validation_names_itself_for_a_missing_secret() -> None:
    with pytest.raises(ConfigurationError, match=r"^presets\.zoom_url_validation needs a secret"):
        presets.zoom_url_validation("abc", secret=None)  # type: ignore[arg-type]


def test_token_verifier_keeps_its_own_name_unless_given_one() -> None:
    assert TokenVerifier(secret="t", header="X-Token").scheme == "token"
    assert TokenVerifier(secret="t", basic=True).scheme == "basic"
    assert TokenVerifier(secret="t", header="X-Token", scheme="acme-token").scheme == "acme-token"
    with pytest.raises(ConfigurationError, match=r"^TokenVerifier needs a secret"):
        TokenVerifier(header="X-Token")
    with pytest.raises(ConfigurationError, match=r"^acme needs a secret"):
        TokenVerifier(header="X-Token", owner="acme")
    with pytest.raises(ConfigurationError, match=r"^acme\(header=\.\.\.\)"):
        TokenVerifier(secret="t", header="", owner="acme")
    with pytest.raises(ConfigurationError, match="scheme"):
        TokenVerifier(secret="t", header="X-Token", scheme="")
    with pytest.raises(ConfigurationError, match="owner"):
        TokenVerifier(secret="t", header="X-Token", owner="")


@pytest.mark.parametrize("name", ["gitlab", "okta"])
def test_check_still_warns_about_token_presets(name: str) -> None:
    # `webhookverify check` used to spot a token by its scheme, "token"
    _, warnings = describe_handler(Handler(name, getattr(presets, name)(secret="t" * 32)), now=NOW)
    assert "a token proves less than a signature: it does not cover the body" in warnings
