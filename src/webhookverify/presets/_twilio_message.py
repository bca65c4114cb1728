"""What Twilio signs: the URL it called, in the forms its SDKs try, and the form
fields after it; or, for a JSON body, the URL alone with the body's hash in it.

Sources: twilio/twilio-python ``twilio/request_validator.py``
(``compute_signature``, ``add_port``, ``remove_port``) and Twilio docs
"Webhooks security" (https://www.twilio.com/docs/usage/webhooks/webhooks-security).
"""

from __future__ import annotations

import urllib.parse

from ..errors import BodyOverLimit, MalformedBody, SignatureMismatch
from ..request import WebhookRequest

__all__ = ["BODY_HASH_PARAM", "body_hash_param", "form_tail", "twilio_url_variants"]

BODY_HASH_PARAM = "bodySHA256"
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def twilio_url_variants(url: str) -> tuple[str, ...]:
    """The URL as given, then the form Twilio's SDKs also try.

    With a port: the same URL without it. Without one: the URL with the
    scheme's default port (443 for https, 80 for http). Only the port is
    touched: user info, path, query and fragment stay byte for byte.
    """
    scheme, sep, rest = url.partition("://")
    default = _DEFAULT_PORTS.get(scheme.lower())
    if not sep or default is None:
        return (url,)
    end = len(rest)
    for stop in "/?#":
        found = rest.find(stop)
        if found != -1:
            end = min(end, found)
    authority, tail = rest[:end], rest[end:]
    userinfo, at, hostport = authority.rpartition("@")
    if hostport.startswith("["):  # an IPv6 literal: the port follows the bracket
        close = hostport.find("]")
        if close == -1:
            return (url,)
        host, port_part = hostport[: close + 1], hostport[close + 1 :]
    else:
        host, colon, port = hostport.partition(":")
        port_part = colon + port
    if not host:
        return (url,)
    head = f"{scheme}://{userinfo}{at}"
    if not port_part:
        return (url, f"{head}{host}:{default}{tail}")
    if port_part[1:].isdigit() and port_part[1:].isascii():
        return (url, f"{head}{host}{tail}")
    return (url,)


def body_hash_param(url: str) -> str | None:
    """The URL's ``bodySHA256`` value, or ``None`` when it has none.

    Raises:
        SignatureMismatch: the URL carries it more than once.
    """
    try:
        query = urllib.parse.urlsplit(url).query
    except ValueError:  # an unparseable URL signs as a form post, and will not match
        return None
    values = [
        v for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True) if k == BODY_HASH_PARAM
    ]
    if len(values) > 1:
        raise SignatureMismatch(f"the URL carries {BODY_HASH_PARAM} more than once")
    return values[0] if values else None


def form_tail(request: WebhookRequest) -> bytes:
    """The form fields as Twilio appends them to the URL: by name, then value.

    Raises:
        MalformedBody: the body is not form data.
        BodyOverLimit: more form data than the request path reads.
    """
    # twilio-python compute_signature: for each name in sorted(set(names)),
    # for each value in sorted(set(values)): s += name + value.
    try:
        pairs = request.form()
    except BodyOverLimit:
        raise  # form data, but more of it than Twilio posts: the reason stands
    except MalformedBody:
        raise MalformedBody(
            "the body is not form data, and the URL has no bodySHA256 parameter (Twilio signs "
            "JSON bodies through bodySHA256; check public_url=)"
        ) from None
    fields: dict[str, list[str]] = {}
    for name, value in pairs:
        fields.setdefault(name, []).append(value)
    out: list[str] = []
    for name in sorted(fields):
        previous = None
        # Duplicates are dropped after sorting rather than through a set, so
        # that a large value (a long SMS body) is compared, never hashed.
        for value in sorted(fields[name]):
            if value != previous:
                out += (name, value)
                previous = value
    return "".join(out).encode("utf-8")
