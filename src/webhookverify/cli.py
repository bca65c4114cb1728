"""The ``webhookverify`` command: check | sign | explain | serve | demo.

    webhookverify check webhooks.toml
    webhookverify sign --config webhooks.toml --handler github --body payload.json
    webhookverify sign --preset github --secret s3cret --body payload.json
    webhookverify explain --config webhooks.toml -H "X-Hub-Signature-256: sha256=..." --body b.json
    webhookverify serve --config webhooks.toml --port 8000
    webhookverify demo
    webhookverify --version

Errors print one line of cause and one line of remedy, and exit non-zero
(2 for a usage or configuration mistake, 1 for a check that failed, 130
for Ctrl-C). When
the reader of the output goes away (``webhookverify sign ... | head -1``),
the command stops quietly with status 141, as a program stopped by SIGPIPE.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from ._clitools import VersionAction, discard_stdout, port_number, unix_time
from ._suggest import did_you_mean
from .errors import (
    ConfigurationError,
    NoHandlerMatched,
    NoValidKey,
    TimestampOutsideTolerance,
    VerificationError,
    WebhookError,
)
from .registry import HandlerRegistry
from .request import WebhookRequest

__all__ = ["main"]

# The body sign/explain read from a file or stdin; the same bound as the adapters.
_MAX_CLI_BODY = 1 << 20
# The exit status of a program stopped by SIGPIPE (128 + 13), what a shell
# reports for any other command whose reader went away.
_EXIT_BROKEN_PIPE = 141


class _Fail(Exception):
    def __init__(self, cause: str, remedy: str, code: int = 2) -> None:
        super().__init__(cause)
        self.cause, self.remedy, self.code = cause, remedy, code


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


# -- check ---------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from .audit import describe_handler
    from .config import inline_secrets

    registry = _registry(args.config)
    now = time.time() if args.now is None else args.now
    inline: dict[str, list[str]] = {}
    for name, setting in inline_secrets(args.config):
        inline.setdefault(name, []).append(setting)
    _out(f"{args.config}: {len(registry)} handler(s), access {'on' if registry.enabled else 'off'}")
    for handler in registry:
        line, warnings = describe_handler(handler, now=now)
        _out(f"  {line}")
        for setting in inline.get(handler.name, []):
            _out(
                f"    warning: {setting} is written in the file (allow_inline_secrets): "
                "outside tests, read it with env:NAME or file:PATH"
            )
        for warning in warnings:
            _out(f"    warning: {warning}")
    return 0


# -- sign ----------------------------------------------------------------------------


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:  # UnicodeDecodeError included
        return False
    return True


def _read_body(source: str | None) -> bytes:
    if source is None:
        return b"{}"
    if source == "-":
        if sys.stdin is None:  # started with stdin closed (<&-)
            raise _Fail("--body - reads stdin, which is closed", "pipe the body in, or --body FILE")
        data = sys.stdin.buffer.read(_MAX_CLI_BODY + 1)
    else:
        try:
            with Path(source).open("rb") as handle:
                data = handle.read(_MAX_CLI_BODY + 1)
        except OSError as exc:
            raise _Fail(
                f"cannot read the body file {source}: {exc.strerror}", "check --body"
            ) from None
    if len(data) > _MAX_CLI_BODY:
        raise _Fail(f"the body is larger than {_MAX_CLI_BODY} bytes", "use a smaller --body file")
    return data


def _verifier_for(args: argparse.Namespace) -> Any:
    keys = {"--preset": args.preset, "--secret": args.secret, "--public-key": args.public_key}
    given = [flag for flag, value in {**keys, "--private-key": args.private_key}.items() if value]
    if (args.config or args.handler) and given:  # the one or the other would be ignored
        raise _Fail(
            f"--config/--handler and {'/'.join(given)} do not go together",
            "sign as a configured handler, or with --preset and its keys",
        )
    if args.config:
        if not args.handler:
            raise _Fail("--config needs --handler NAME", "name the handler to sign as")
        from .config import load_handler

        try:  # only this handler: the others' keys need not be set to sign as this one
            return load_handler(args.config, args.handler).verifier
        except ConfigurationError as exc:
            raise _Fail(str(exc), exc.remedy or "check --handler and the configuration") from None
    if not args.preset:
        raise _Fail("sign needs --config and --handler, or --preset", "see webhookverify sign -h")
    from . import presets

    if args.preset not in presets.PRESETS:
        hint = did_you_mean(args.preset, presets.PRESETS)
        raise _Fail(
            f"unknown preset {args.preset!r}{hint}", f"use one of: {', '.join(presets.PRESETS)}"
        )
    options: dict[str, Any] = {}
    if args.secret:
        options["secret"] = args.secret
    if args.public_key:
        options["public_key"] = args.public_key
    if args.private_key:
        options["private_key"] = args.private_key
    try:
        return getattr(presets, args.preset)(**options)
    except TypeError as exc:
        raise _Fail(f"preset {args.preset}: {exc}", "check --secret/--public-key") from None
    except ConfigurationError as exc:
        raise _Fail(str(exc), exc.remedy or "check --secret/--public-key") from None


def cmd_sign(args: argparse.Namespace) -> int:
    verifier = _verifier_for(args)
    body = _read_body(args.body)
    parts = {k: v for k, v in (("url", args.url), ("method", args.method), ("id", args.id)) if v}
    now = time.time() if args.now is None else args.now
    try:
        headers = verifier.sign(body, now, **parts)
    except NoValidKey as exc:
        raise _Fail(f"cannot sign: {exc}", "check the keys' not_before/not_after") from None
    except WebhookError as exc:  # what the scheme needs to sign (a URL, an id, a form body)
        raise _Fail(f"cannot sign: {exc}", "check --url, --method, --id and --body") from None
    if args.curl:
        if _is_json(body) and not any(k.lower() == "content-type" for k in headers):
            # as JSON senders say it; curl's --data-binary would say a form
            headers = {"Content-Type": "application/json", **headers}
        flags = " ".join(f"-H {_shell_quote(f'{k}: {v}')}" for k, v in headers.items())
        source = "@-" if args.body == "-" else f"@{args.body}" if args.body else "'{}'"
        method = args.method or "POST"
        # -i: the status line shows even for the empty 200 of a delivery or a replay
        _out(f"curl -sS -i -X {method} {flags} --data-binary {source} {args.curl}")
    else:
        for name, value in headers.items():
            _out(f"{name}: {value}")
    return 0


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


# -- explain -------------------------------------------------------------------------


def cmd_explain(args: argparse.Namespace) -> int:
    registry = _registry(args.config)
    headers: list[tuple[str, str]] = []
    for raw in args.header or []:
        name, sep, value = raw.partition(":")
        if not sep or not name.strip():
            raise _Fail(f"-H {raw!r} is not 'Name: value'", "write each header as -H 'Name: value'")
        headers.append((name.strip(), value.strip()))
    body = _read_body(args.body)
    try:
        request = WebhookRequest(
            method=args.method or "POST",
            url=args.url or "",
            headers=headers,
            body=body,
            received_at=time.time() if args.now is None else args.now,
        )
    except WebhookError as exc:
        raise _Fail(f"the request cannot be built: {exc}", "check -H and --body") from None
    candidates = {h.name for h in registry.candidates(request)}
    for handler in registry:
        if not handler.enabled:
            _out(f"  {handler.name}: disabled")
        elif handler.name not in candidates:
            missing = [h for h in handler.verifier.required_headers if h not in request.headers]
            _out(f"  {handler.name}: skipped, missing header(s) {', '.join(missing)}")
        else:
            try:
                result = handler.verifier.verify(request)
            except VerificationError as exc:
                _out(f"  {handler.name}: {exc.reason}: {exc}")
                if isinstance(exc, TimestampOutsideTolerance):
                    from .audit import freshness_lines

                    for line in freshness_lines(exc):
                        _out(f"    {line}")
            else:
                _out(
                    f"  {handler.name}: verified ({result.scheme}, key {result.key_id}, "
                    f"delivery id {result.delivery_id or '-'})"
                )
    try:
        match = registry.verify(request)
    except NoHandlerMatched:
        _out("result: no handler verified this request (the receiver would answer 401)")
        return 1
    except VerificationError as exc:
        _out(f"result: refused ({exc.reason})")
        return 1
    _out(f"result: handler {match.handler.name!r} wins, acting as user {match.handler.user!r}")
    return 0


# -- serve ---------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    from .config import load_config
    from .demo import make_wsgi_server
    from .events import EventBus
    from .receiver import Delivery, Receiver
    from .wsgi import WebhookApp

    registry = _registry(args.config)
    table = load_config(args.config)
    bus = EventBus()

    def show(delivery: Delivery) -> None:
        record = {
            "handler": delivery.handler.name,
            "user": delivery.user,
            "delivery_id": delivery.delivery_id,
            "scheme": delivery.verification.scheme,
            "bytes": len(delivery.request.body),
        }
        _out(json.dumps(record))
        sys.stdout.flush()

    bus.bind("webhook.received", show)
    options: dict[str, Any] = {"public_url": args.public_url or table.get("public_url")}
    if "max_body_size" in table:
        options["max_body_size"] = table["max_body_size"]
    try:
        app = WebhookApp(Receiver(registry, bus), **options)
    except ConfigurationError as exc:
        raise _Fail(
            f"{args.config}: {exc}", "check [webhooks] max_body_size and public_url"
        ) from None
    try:
        server = make_wsgi_server(app, args.host, args.port)
    except OSError as exc:
        raise _Fail(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror}", "check --host and --port"
        ) from None
    _out(f"listening on http://{args.host}:{server.server_port}{args.path} (Ctrl-C stops)")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


# -- plumbing ------------------------------------------------------------------------


def _registry(path: str) -> HandlerRegistry:
    from .config import load_registry

    try:
        return load_registry(path)
    except ConfigurationError as exc:
        remedy = exc.remedy or "fix the configuration file; see webhookverify.config"
        raise _Fail(str(exc), remedy) from None


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one line of cause and one of remedy."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"webhookverify: {message}\n")
        sys.stderr.write(f"remedy: see {self.prog} -h\n")
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="webhookverify", description="Verify, sign and receive webhooks.")
    parser.add_argument("--version", action=VersionAction, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    check = sub.add_parser("check", help="load a configuration and report on each handler")
    check.add_argument("config", help="the TOML configuration file")
    check.add_argument("--now", type=unix_time, help="unix seconds to judge key windows at")
    check.set_defaults(run=cmd_check)

    sign = sub.add_parser("sign", help="sign a body as a sender would (for tests)")
    sign.add_argument("--config", help="the TOML configuration file")
    sign.add_argument("--handler", help="sign as this handler of --config")
    sign.add_argument("--preset", help="or: sign with this preset")
    sign.add_argument("--secret", help="the preset's secret")
    sign.add_argument("--public-key", help="the preset's public key (public-key schemes)")
    sign.add_argument("--private-key", help="the private key to sign with (public-key schemes)")
    sign.add_argument("--body", help="a file with the body, or - for stdin (default: {})")
    sign.add_argument("--url", help="the URL, for schemes that sign it")
    sign.add_argument("--method", help="the method, for schemes that sign it (default POST)")
    sign.add_argument("--id", help="the delivery id, for schemes that sign one")
    sign.add_argument("--now", type=unix_time, help="unix seconds to sign at (default: now)")
    sign.add_argument("--curl", metavar="URL", help="print a curl command posting to URL")
    sign.set_defaults(run=cmd_sign)

    explain = sub.add_parser("explain", help="show why each handler accepts or refuses a request")
    explain.add_argument("--config", required=True, help="the TOML configuration file")
    explain.add_argument("-H", "--header", action="append", help="a header, 'Name: value'")
    explain.add_argument("--body", help="a file with the body, or - for stdin")
    explain.add_argument("--url", help="the URL the sender used")
    explain.add_argument("--method", help="the method (default POST)")
    explain.add_argument("--now", type=unix_time, help="unix seconds to judge freshness at")
    explain.set_defaults(run=cmd_explain)

    serve = sub.add_parser("serve", help="run a receiver that prints each verified delivery")
    serve.add_argument("--config", required=True, help="the TOML configuration file")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=port_number, default=8000, help="port to listen on (0: any)")
    serve.add_argument("--path", default="/webhooks", help="shown in the banner only")
    serve.add_argument("--public-url", help="the URL senders use, for URL-signing schemes")
    serve.set_defaults(run=cmd_serve)

    demo = sub.add_parser(
        "demo", help="a receiver on loopback taking signed, tampered and replayed deliveries"
    )
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    demo.add_argument("--verbose", action="store_true", help="also show the library's log")
    demo.set_defaults(run=_run_demo)
    return parser


def _run_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(quiet=args.quiet, verbose=args.verbose)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    try:
        if sys.stdout is None:  # started with stdout closed (>&-): nowhere to answer
            raise _Fail("stdout is closed", "run it with its output open (or sent to /dev/null)")
        args = _parser().parse_args(argv)  # --version writes here
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        code: int = args.run(args)
        sys.stdout.flush()  # here, so that a reader gone away is seen here
    except _Fail as failure:
        sys.stderr.write(f"webhookverify: {failure.cause}\n")
        sys.stderr.write(f"remedy: {failure.remedy}\n")
        return failure.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        discard_stdout()
        return _EXIT_BROKEN_PIPE
    return code


if __name__ == "__main__":
    sys.exit(main())
