"""AWS Lambda HTTP events: read one as a :class:`~webhookverify.WebhookRequest`,
build one for a test, and write an answer in the shape API Gateway expects.

Three sources invoke a function for an HTTP request (AWS Lambda Developer
Guide, "Using Lambda with API Gateway" and "Lambda function URLs"):

- API Gateway REST APIs, payload format 1.0: ``httpMethod``, ``path``,
  ``headers`` (the last value of each) and ``multiValueHeaders`` (every
  value), ``multiValueQueryStringParameters`` (decoded),
  ``requestContext.path`` (the stage included), ``requestContext.identity.sourceIp``;
- API Gateway HTTP APIs, payload format 2.0: ``rawPath``,
  ``rawQueryString``, ``headers`` with lower-case names and repeated values
  joined with commas, ``cookies`` apart from the headers,
  ``requestContext.http.method`` and ``sourceIp``;
- Lambda function URLs: payload format 2.0, on a ``*.lambda-url.*.on.aws`` host.

In each, ``body`` is text, base64-encoded when ``isBase64Encoded`` is true
(HTTP APIs and function URLs encode every body that is not text; a REST API
encodes the media types listed in its ``binaryMediaTypes``).

Importing this module imports no AWS library.
"""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypeAlias

from ._adapter import build_request, read_headers
from ._body import whole_body
from ._options import AdapterOptions
from ._origin import check_host, quote_path
from ._replies import BAD_REQUEST, Refused
from .errors import ConfigurationError
from .request import WebhookRequest

__all__ = [
    "EventKind",
    "describe_event",
    "event_kind",
    "lambda_response",
    "make_lambda_event",
    "read_event",
]

EventKind: TypeAlias = Literal["v1", "v2"]
Event: TypeAlias = Mapping[str, Any]


def event_kind(event: object) -> EventKind:
    """``"v1"`` for a REST API event, ``"v2"`` for an HTTP API or function URL event.

    Raises:
        ConfigurationError: ``event`` is not an HTTP event (the function is
            invoked by another trigger, or by hand with another payload).
    """
    if isinstance(event, Mapping):
        context = event.get("requestContext")
        if event.get("version") == "2.0" and isinstance(context, Mapping) and "http" in context:
            return "v2"
        if isinstance(event.get("httpMethod"), str):
            return "v1"
    raise ConfigurationError(
        "the Lambda event is not an HTTP request: invoke this function through an API "
        "Gateway REST or HTTP API (proxy integration) or a function URL"
    )


def _section(event: Event, *names: str) -> Mapping[str, Any]:
    """``event[names[0]][names[1]]...``, or ``{}`` where a level is missing or null."""
    found: Any = event
    for name in names:
        found = found.get(name) if isinstance(found, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def describe_event(event: Event) -> tuple[str | None, str | None]:
    """The method and path of an HTTP event, for a log line (``None`` where absent)."""
    http = _section(event, "requestContext", "http")
    method = event.get("httpMethod") or http.get("method")
    path = event.get("rawPath") or event.get("path")
    return (method if isinstance(method, str) else None), (path if isinstance(path, str) else None)


def _member(event: Event, name: str, shape: type, what: str) -> Any:
    """``event[name]`` when it is a ``shape`` (``None``: absent or null).

    Raises:
        ConfigurationError: it is something else (not an event API Gateway sent).
    """
    found = event.get(name)
    if found is None or isinstance(found, shape):
        return found
    raise _malformed(name, what)


def _malformed(name: str, what: str) -> ConfigurationError:
    """The error for an event whose ``name`` is not ``what``."""
    return ConfigurationError(
        f"the Lambda event's {name} is not {what}: pass the event as API Gateway or the "
        "function URL hands it over (make_lambda_event() builds one for a test)"
    )


def _pairs(event: Event, kind: EventKind) -> list[tuple[str, str]]:
    """The header fields, every value of a repeated one kept.

    Raises:
        ConfigurationError: a header section of another shape than AWS documents.
    """
    single = _member(event, "headers", Mapping, "an object of header values") or {}
    if kind == "v2":
        pairs = [(str(name), str(value)) for name, value in single.items()]
        cookies = _member(event, "cookies", list, "a list of cookies")
        if cookies:  # payload 2.0 moves Cookie out of the headers
            pairs.append(("cookie", "; ".join(str(cookie) for cookie in cookies)))
        return pairs
    multi = _member(event, "multiValueHeaders", Mapping, "an object of value lists") or {}
    if not all(values is None or isinstance(values, list) for values in multi.values()):
        raise _malformed("multiValueHeaders", "an object of value lists")
    pairs = [(str(name), str(value)) for name, values in multi.items() for value in values or ()]
    seen = {name.lower() for name, _ in pairs}
    pairs += [(str(n), str(v)) for n, v in single.items() if str(n).lower() not in seen]
    return pairs


def _body(event: Event) -> bytes:
    """The body bytes: base64-decoded when the event says so.

    Raises:
        Refused: 400 for a body that is not valid base64, or not text.
    """
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise Refused(BAD_REQUEST, "malformed_body")
    try:
        if event.get("isBase64Encoded"):
            return base64.b64decode(body, validate=True)
        return body.encode("utf-8")
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise Refused(BAD_REQUEST, "malformed_body") from None


def _url_parts(event: Event, kind: EventKind) -> tuple[str, str, None]:
    """The path as the sender wrote it and the raw query, as far as the event keeps them."""
    if kind == "v2":
        path = str(event.get("rawPath") or "/")
        query = str(event.get("rawQueryString") or "")
        return quote_path(path.encode("utf-8"), decoded=False), query, None
    # payload 1.0 keeps the path decoded (requestContext.path: with the stage)
    # and the query parsed; both are written back in their usual encoding
    path = str(_section(event, "requestContext").get("path") or event.get("path") or "/")
    params = event.get("multiValueQueryStringParameters") or {}
    pairs = [(name, value) for name, values in params.items() for value in values or ()]
    return quote_path(path.encode("utf-8"), decoded=True), urllib.parse.urlencode(pairs), None


def read_event(
    options: AdapterOptions,
    event: Event,
    received_at: float,
    *,
    handshake_methods: frozenset[str] = frozenset(),
) -> tuple[WebhookRequest, EventKind]:
    """The request an HTTP event carries, and the event's kind.

    ``handshake_methods`` (the receiver's): methods let through besides
    ``options.methods``, for a handler's handshake (Dropbox's GET).

    Raises:
        ConfigurationError: not an HTTP event (:func:`event_kind`), or one whose
            ``headers``, ``multiValueHeaders`` or ``cookies`` AWS would not send.
        Refused: 405 for a method not configured; 431 past the header limits;
            413 past ``max_body_size``; 400 for a malformed header, Host or body.
    """
    kind = event_kind(event)
    context = _section(event, "requestContext")
    if kind == "v2":
        method = str(_section(context, "http").get("method", ""))
        source = _section(context, "http").get("sourceIp")
    else:
        method = str(event.get("httpMethod", ""))
        source = _section(context, "identity").get("sourceIp")
    options.check_method(method.upper(), handshake_methods)
    headers = read_headers(options, _pairs(event, kind))
    body = whole_body(_body(event), None, options.max_body_size)
    host = check_host(headers.get_all("host")) or str(context.get("domainName") or "")
    peer = str(source).partition("/")[0] if source else None  # "192.168.0.1/32" in samples
    request = build_request(
        options,
        method=method,
        scheme="https",  # API Gateway and function URLs serve HTTPS only
        host=host,
        headers=headers,
        body=body,
        received_at=received_at,
        peer=peer,
        url_parts=lambda: _url_parts(event, kind),
    )
    return request, kind


def lambda_response(
    status: int, headers: Iterable[tuple[str, str]], body: bytes | str
) -> dict[str, Any]:
    """An answer in the proxy integration's shape (both payload formats).

    A body that is not UTF-8 text is sent base64-encoded. Repeated headers
    are joined with commas (RFC 9110 §5.3).
    """
    joined: dict[str, str] = {}
    for name, value in headers:
        joined[name] = f"{joined[name]}, {value}" if name in joined else value
    raw = body.encode("utf-8") if isinstance(body, str) else body
    try:
        text, encoded = raw.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(raw).decode("ascii"), True
    return {"statusCode": status, "headers": joined, "body": text, "isBase64Encoded": encoded}


def make_lambda_event(
    request: WebhookRequest,
    kind: Literal["v1", "v2", "url"] = "v2",
    *,
    base64_body: bool | None = None,
    stage: str = "$default",
) -> dict[str, Any]:
    """The event API Gateway or a function URL would hand a function for ``request``.

    For tests: ``handler(make_lambda_event(sign_request(...)), None)``.

    Args:
        request: the request (from :func:`webhookverify.testing.sign_request`).
        kind: ``"v1"`` (REST API), ``"v2"`` (HTTP API) or ``"url"`` (function URL).
        base64_body: send the body base64-encoded, as for a binary media type
            (default: only when it is not UTF-8 text).
        stage: the API stage (REST APIs put it in ``requestContext.path``).
    """
    parts = urllib.parse.urlsplit(request.url)
    host = parts.netloc or "example.test"
    if kind == "url":
        host = "abcdefghij.lambda-url.us-east-1.on.aws"
    path = parts.path or "/"
    raw = request.body
    if base64_body is None:
        try:
            raw.decode("utf-8")
            base64_body = False
        except UnicodeDecodeError:
            base64_body = True
    body = base64.b64encode(raw).decode("ascii") if base64_body else raw.decode("utf-8")
    names: dict[str, list[str]] = {}
    for name, value in request.headers.raw_items():
        names.setdefault(name, []).append(value)
    names.setdefault("Host", [host])
    if kind == "v1":
        staged = path if stage == "$default" else f"/{stage}{path}"
        query: dict[str, list[str]] = {}
        for name, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
            query.setdefault(name, []).append(value)
        return {
            "version": "1.0",
            "resource": path,
            "path": urllib.parse.unquote(path),
            "httpMethod": request.method,
            "headers": {name: values[-1] for name, values in names.items()},
            "multiValueHeaders": names,
            "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "requestContext": {
                "domainName": host,
                "httpMethod": request.method,
                "identity": {"sourceIp": request.remote_addr or "203.0.113.7"},
                "path": urllib.parse.unquote(staged),
                "stage": stage,
            },
            "body": body,
            "isBase64Encoded": base64_body,
        }
    lowered: dict[str, list[str]] = {}
    for name, values in names.items():
        lowered.setdefault(name.lower(), []).extend(values)
    cookies = lowered.pop("cookie", None)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": parts.query,
        "headers": {name: ",".join(values) for name, values in lowered.items()},
        "requestContext": {
            "domainName": host,
            "http": {
                "method": request.method,
                "path": urllib.parse.unquote(path),
                "sourceIp": request.remote_addr or "203.0.113.7",
            },
            "stage": stage,
        },
        "body": body,
        "isBase64Encoded": base64_body,
    }
    if cookies:
        event["cookies"] = [c.strip() for value in cookies for c in value.split(";")]
    return event
