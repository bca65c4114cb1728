"""``webhookverify sign``: sign a body as a sender would, for tests.

    webhookverify sign --config webhooks.toml --handler github --body payload.json
    webhookverify sign --preset github --secret s3cret -H "X-GitHub-Event: push"
    webhookverify sign --preset trello --secret s3cret --url https://hooks.example.com/trello

It prints the headers to send (the signature's, after any ``-H`` given), or
with ``--curl URL`` a curl command that sends them with the body. Also the
body reader that ``explain`` shares.
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from ._clitools import Fail, out
from ._suggest import did_you_mean
from .errors import ConfigurationError, NoValidKey, WebhookError

__all__ = ["MAX_CLI_BODY", "cmd_sign", "parse_header", "read_body"]

# The body sign/explain read from a file or stdin; the same bound as the adapters.
MAX_CLI_BODY = 1 << 20

# A header field name is a token (RFC 9110 §5.6.2: tchar); its value holds
# no control character but HTAB (RFC 9110 §5.5), so no CR or LF can end it early.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def read_body(source: str | None) -> bytes:
    """The body named by ``--body``: a file, ``-`` for stdin, ``{}`` without one.

    Raises:
        Fail: the file cannot be read, stdin is closed, or the body is
            larger than :data:`MAX_CLI_BODY`.
    """
    if source is None:
        return b"{}"
    if source == "-":
        if sys.stdin is None:  # started with stdin closed (<&-)
            raise Fail("--body - reads stdin, which is closed", "pipe the body in, or --body FILE")
        data = sys.stdin.buffer.read(MAX_CLI_BODY + 1)
    else:
        try:
            with Path(source).open("rb") as handle:
                data = handle.read(MAX_CLI_BODY + 1)
        except OSError as exc:
            raise Fail(
                f"cannot read the body file {source}: {exc.strerror}", "check --body"
            ) from None
    if len(data) > MAX_CLI_BODY:
        raise Fail(f"the body is larger than {MAX_CLI_BODY} bytes", "use a smaller --body file")
    return data


def parse_header(raw: str) -> tuple[str, str]:
    """One ``-H "Name: value"`` of ``sign``, checked as a sender would send it.

    Returns:
        the name and the value, without the spaces around either.

    Raises:
        Fail: no colon, a name that is not an HTTP token, or a control
            character (CR, LF...) in the value.
    """
    name, sep, value = raw.partition(":")
    name, value = name.strip(), value.strip(" \t")
    if not sep or not _TOKEN.fullmatch(name):
        raise Fail(f"-H {raw!r} is not 'Name: value'", "write each header as -H 'Name: value'")
    if _CONTROL.search(value):
        raise Fail(f"-H {name}: the value holds a control character", "write the value on one line")
    return name, value


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:  # UnicodeDecodeError included
        return False
    return True


def _url_setting(preset: Any) -> str | None:
    """The required setting of a URL-signing preset that ``--url`` gives
    (Trello's ``callback_url``, monday.com's ``url``), if it has one."""
    for parameter in inspect.signature(preset).parameters.values():
        name = parameter.name
        if parameter.default is inspect.Parameter.empty and (
            name == "url" or name.endswith("_url")
        ):
            return name
    return None


def _preset_verifier(args: argparse.Namespace) -> Any:
    from . import presets

    if args.preset not in presets.PRESETS:
        hint = did_you_mean(args.preset, presets.PRESETS)
        raise Fail(
            f"unknown preset {args.preset!r}{hint}", f"use one of: {', '.join(presets.PRESETS)}"
        )
    preset = getattr(presets, args.preset)
    options: dict[str, Any] = {}
    if args.secret:
        options["secret"] = args.secret
    if args.public_key:
        options["public_key"] = args.public_key
    if args.private_key:
        options["private_key"] = args.private_key
    url_setting = _url_setting(preset)
    if url_setting is not None:
        if not args.url:  # the URL is part of what it signs: no default can be right
            raise Fail(
                f"presets.{args.preset} needs {url_setting}, the URL it signs",
                f"give it with --url (the {url_setting} the sender was configured with)",
            )
        options[url_setting] = args.url
    try:
        return preset(**options)
    except TypeError as exc:
        raise Fail(f"preset {args.preset}: {exc}", "check --secret/--public-key") from None
    except ConfigurationError as exc:
        raise Fail(str(exc), exc.remedy or "check --secret/--public-key/--url") from None


def _verifier_for(args: argparse.Namespace) -> Any:
    keys = {"--preset": args.preset, "--secret": args.secret, "--public-key": args.public_key}
    given = [flag for flag, value in {**keys, "--private-key": args.private_key}.items() if value]
    if (args.config or args.handler) and given:  # the one or the other would be ignored
        raise Fail(
            f"--config/--handler and {'/'.join(given)} do not go together",
            "sign as a configured handler, or with --preset and its keys",
        )
    if args.config:
        if not args.handler:
            raise Fail("--config needs --handler NAME", "name the handler to sign as")
        from .config import load_handler

        try:  # only this handler: the others' keys need not be set to sign as this one
            return load_handler(args.config, args.handler).verifier
        except ConfigurationError as exc:
            raise Fail(str(exc), exc.remedy or "check --handler and the configuration") from None
    if not args.preset:
        raise Fail("sign needs --config and --handler, or --preset", "see webhookverify sign -h")
    return _preset_verifier(args)


def cmd_sign(args: argparse.Namespace) -> int:
    """Print the headers (or a curl command) of a body signed as ``args`` say.

    Raises:
        Fail: a usage or configuration mistake, or nothing to sign with.
    """
    extra = [parse_header(raw) for raw in args.header or []]
    verifier = _verifier_for(args)
    body = read_body(args.body)
    parts = {k: v for k, v in (("url", args.url), ("method", args.method), ("id", args.id)) if v}
    now = time.time() if args.now is None else args.now
    try:
        signed = verifier.sign(body, now, **parts)
    except NoValidKey as exc:
        raise Fail(f"cannot sign: {exc}", "check the keys' not_before/not_after") from None
    except WebhookError as exc:  # what the scheme needs to sign (a URL, an id, a form body)
        raise Fail(f"cannot sign: {exc}", "check --url, --method, --id and --body") from None
    if args.id and signed.get("id") == args.id:  # not taken: sign() sends a leftover as a header
        raise Fail(
            "--id: this sender signs no delivery id header; the id would be sent as a header "
            "named 'id'",
            "leave --id out (a sender such as Stripe reads the delivery id from --body)",
        )
    taken = {name.lower() for name in signed}
    for name, _ in extra:
        if name.lower() in taken:
            raise Fail(
                f"-H {name} is a header the signature sets", f"leave {name} out of -H; sign sets it"
            )
    headers = [*extra, *signed.items()]
    if args.curl:
        if _is_json(body) and not any(k.lower() == "content-type" for k, _ in headers):
            # as JSON senders say it; curl's --data-binary would say a form
            headers.insert(0, ("Content-Type", "application/json"))
        flags = " ".join(f"-H {_shell_quote(f'{k}: {v}')}" for k, v in headers)
        source = "@-" if args.body == "-" else f"@{args.body}" if args.body else "{}"
        method = args.method or "POST"
        # -i: the status line shows even for the empty 200 of a delivery or a replay;
        # every argument quoted: a query's & or a space in a path would split the line in sh
        words = (shlex.quote(method), flags, "--data-binary", shlex.quote(source))
        out(f"curl -sS -i -X {' '.join(words)} {shlex.quote(args.curl)}")
    else:
        for name, value in headers:
            out(f"{name}: {value}")
    return 0


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"
