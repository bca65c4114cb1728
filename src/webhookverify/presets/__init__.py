"""One small factory per provider: ``presets.github(secret=...)`` and so on.

Each preset returns a verifier configured the way its provider signs, with
the provider's documented tolerance. Each docstring says where the secret is
found in the provider's dashboard, what is signed, and what the provider does
differently from the rest.

The presets are grouped by how their senders sign, one module per family:
``_hub_signature`` (``X-Hub-Signature`` senders), ``_raw_hmac``,
``_raw_hmac_commerce``, ``_raw_hmac_apps`` and ``_raw_hmac_more`` (an HMAC of the
raw body; Close there adds a timestamp),
``_timestamped``, ``_timestamped_apps`` and ``_timestamped_more`` (an HMAC
over a signed timestamp and the body), ``_standard`` (Standard Webhooks and
its adopters), ``_public_key``, ``_tokens`` and ``_tokens_more``, ``_apple``
(a JWS whose certificate chain is validated by ``_apple_chain``), and one
module for each sender with a scheme of its own (Adyen, Box, Braintree,
Contentful, Dropbox Sign, HubSpot, Linear, Mailgun, Mandrill, Mollie,
monday.com, Netlify, Persona, Plivo, Recurly, Square, Twilio, Vonage), its
factory beside its verifier.
``_handshakes`` holds the answers to senders' one-time endpoint checks
(which the receiver gives itself for a handler whose preset has one),
``_handshake_senders`` and ``_asana`` the senders whose check is their own
(Dropbox, X, Nylas, Xero; Asana), and ``_protocol`` the verifiers that carry a
handshake and an event type reader. Configuration
errors name the preset called (``presets.github needs a secret``), and
``Verification.scheme`` is the preset's name followed by what was verified
(``github-hmac-sha256``, ``svix-v1``, ``discord-ed25519``).
"""

from ._adyen import AdyenVerifier, adyen
from ._apple import AppleAppStoreVerifier, apple_app_store
from ._asana import AsanaVerifier, asana
from ._aws_sns import AwsSnsVerifier, aws_sns
from ._box import BoxVerifier, box
from ._braintree import BraintreeVerifier, braintree
from ._contentful import ContentfulVerifier, contentful
from ._dropbox_sign import DropboxSignVerifier, dropbox_sign
from ._google_chat import GoogleChatVerifier, google_chat
from ._google_oidc import GoogleOidcVerifier, google_oidc
from ._handshake_senders import dropbox, nylas, x, xero
from ._handshakes import (
    dropbox_challenge,
    graph_validation,
    okta_verification,
    zoom_url_validation,
)
from ._hub_signature import bitbucket, github, intercom, jira, meta
from ._hubspot import hubspot
from ._linear import LinearVerifier, linear
from ._mailgun import MailgunVerifier, mailgun
from ._mandrill import mandrill
from ._microsoft_graph import MicrosoftGraphVerifier, microsoft_graph
from ._mollie import MollieVerifier, mollie
from ._monday import MondayVerifier, monday
from ._netlify import NetlifyVerifier, netlify
from ._paypal import PaypalVerifier, paypal
from ._persona import PersonaVerifier, persona
from ._plaid import PlaidVerifier, plaid
from ._plivo import plivo
from ._public_key import discord, sendgrid, telnyx
from ._raw_hmac import (
    circleci,
    coinbase_commerce,
    razorpay,
    sentry,
    shopify,
    tiki,
    trello,
    typeform,
    vercel,
)
from ._raw_hmac_apps import airtable, cal_com, line, pagerduty
from ._raw_hmac_commerce import (
    checkr,
    docusign,
    gocardless,
    intuit,
    lemon_squeezy,
    onfido,
    paystack,
    woocommerce,
)
from ._raw_hmac_more import close, discourse, help_scout, segment, squarespace
from ._recurly import RecurlyVerifier, recurly
from ._square import square
from ._standard import clerk, gitlab_signing, replicate, resend, standard_webhooks, svix
from ._timestamped import calendly, paddle, slack, stripe, twitch, zoom
from ._timestamped_apps import frame_io, sinch, zendesk
from ._timestamped_more import lob, mux, sanity, webflow
from ._tokens import bandwidth, gitlab, okta, postmark, sparkpost, telegram
from ._tokens_more import chargebee, flutterwave, xendit
from ._twilio import twilio
from ._vonage import VonageVerifier, vonage

PRESETS: tuple[str, ...] = (
    "adyen",
    "airtable",
    "apple_app_store",
    "asana",
    "aws_sns",
    "bandwidth",
    "bitbucket",
    "box",
    "braintree",
    "cal_com",
    "calendly",
    "chargebee",
    "checkr",
    "circleci",
    "clerk",
    "close",
    "coinbase_commerce",
    "contentful",
    "discord",
    "discourse",
    "docusign",
    "dropbox",
    "dropbox_sign",
    "flutterwave",
    "frame_io",
    "github",
    "gitlab",
    "gitlab_signing",
    "gocardless",
    "google_chat",
    "google_oidc",
    "help_scout",
    "hubspot",
    "intercom",
    "intuit",
    "jira",
    "lemon_squeezy",
    "line",
    "linear",
    "lob",
    "mailgun",
    "mandrill",
    "meta",
    "microsoft_graph",
    "mollie",
    "monday",
    "mux",
    "netlify",
    "nylas",
    "okta",
    "onfido",
    "paddle",
    "pagerduty",
    "paypal",
    "paystack",
    "persona",
    "plaid",
    "plivo",
    "postmark",
    "razorpay",
    "recurly",
    "replicate",
    "resend",
    "sanity",
    "segment",
    "sendgrid",
    "sentry",
    "shopify",
    "sinch",
    "slack",
    "sparkpost",
    "square",
    "squarespace",
    "standard_webhooks",
    "stripe",
    "svix",
    "telegram",
    "telnyx",
    "tiki",
    "trello",
    "twilio",
    "twitch",
    "typeform",
    "vercel",
    "vonage",
    "webflow",
    "woocommerce",
    "x",
    "xendit",
    "xero",
    "zendesk",
    "zoom",
)
"""The names of the preset factories, in alphabetical order: what
``preset = "..."`` in a configuration file and ``webhookverify sign --preset``
accept, and the order of ``docs/presets.md``."""

# Answers to providers' one-time endpoint checks: helpers, not verifiers.
_HANDSHAKES = frozenset(
    {"dropbox_challenge", "graph_validation", "okta_verification", "zoom_url_validation"}
)

__all__ = [
    "PRESETS",
    "AdyenVerifier",
    "AppleAppStoreVerifier",
    "AsanaVerifier",
    "AwsSnsVerifier",
    "BoxVerifier",
    "BraintreeVerifier",
    "ContentfulVerifier",
    "DropboxSignVerifier",
    "GoogleChatVerifier",
    "GoogleOidcVerifier",
    "LinearVerifier",
    "MailgunVerifier",
    "MicrosoftGraphVerifier",
    "MollieVerifier",
    "MondayVerifier",
    "NetlifyVerifier",
    "PaypalVerifier",
    "PersonaVerifier",
    "PlaidVerifier",
    "RecurlyVerifier",
    "VonageVerifier",
    "adyen",
    "airtable",
    "apple_app_store",
    "asana",
    "aws_sns",
    "bandwidth",
    "bitbucket",
    "box",
    "braintree",
    "cal_com",
    "calendly",
    "chargebee",
    "checkr",
    "circleci",
    "clerk",
    "close",
    "coinbase_commerce",
    "contentful",
    "discord",
    "discourse",
    "docusign",
    "dropbox",
    "dropbox_challenge",
    "dropbox_sign",
    "flutterwave",
    "frame_io",
    "github",
    "gitlab",
    "gitlab_signing",
    "gocardless",
    "google_chat",
    "google_oidc",
    "graph_validation",
    "help_scout",
    "hubspot",
    "intercom",
    "intuit",
    "jira",
    "lemon_squeezy",
    "line",
    "linear",
    "lob",
    "mailgun",
    "mandrill",
    "meta",
    "microsoft_graph",
    "mollie",
    "monday",
    "mux",
    "netlify",
    "nylas",
    "okta",
    "okta_verification",
    "onfido",
    "paddle",
    "pagerduty",
    "paypal",
    "paystack",
    "persona",
    "plaid",
    "plivo",
    "postmark",
    "razorpay",
    "recurly",
    "replicate",
    "resend",
    "sanity",
    "segment",
    "sendgrid",
    "sentry",
    "shopify",
    "sinch",
    "slack",
    "sparkpost",
    "square",
    "squarespace",
    "standard_webhooks",
    "stripe",
    "svix",
    "telegram",
    "telnyx",
    "tiki",
    "trello",
    "twilio",
    "twitch",
    "typeform",
    "vercel",
    "vonage",
    "webflow",
    "woocommerce",
    "x",
    "xendit",
    "xero",
    "zendesk",
    "zoom",
    "zoom_url_validation",
]
