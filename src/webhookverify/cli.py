"""The ``webhookverify`` command: check | sign | explain | serve | demo.

    webhookverify check webhooks.toml
    webhookverify sign --config webhooks.toml --handler github --body payload.json
    webhookverify sign --preset github --secret s3cret --body payload.json -H "X-GitHub-Event: push"
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
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from ._cli_sign import cmd_sign, read_body
from ._clitools import Fail, VersionAction, discard_stdout, out, port_number, unix_time
from .errors import (
    ConfigurationError,
    NoHandlerMatched,
    SignatureMismatch,
    TimestampOutsideTolerance,
    VerificationError,
    WebhookError,
)
from .registry import Handler, HandlerRegistry
from .request import WebhookRequest

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["main"]

# The exit status of a program stopped by SIGPIPE (128 + 13), what a shell
# reports for any other command whose reader went away.
_EXIT_BROKEN_PIPE = 141


# -- check ---------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from .audit import describe_handler
    from .config import inline_secrets

    registry = _registry(args.config)
    now = time.time() if args.now is None else args.now
    inline: dict[str, list[str]] = {}
    for name, setting in inline_secrets(args.config):
        inline.setdefault(name, []).append(setting)
    out(f"{args.config}: {len(registry)} handler(s), access {'on' if registry.enabled else 'off'}")
    for handler in registry:
        line, warnings = describe_handler(handler, now=now)
        out(f"  {line}")
        for setting in inline.get(handler.name, []):
            out(
                f"    warning: {setting} is written in the file (allow_inline_secrets): "
                "outside tests, read it with env:NAME or file:PATH"
            )
        for warning in warnings:
            out(f"    warning: {warning}")
    return 0


# -- explain -------------------------------------------------------------------------


def cmd_explain(args: argparse.Namespace) -> int:
    registry = _registry(args.config)
    headers: list[tuple[str, str]] = []
    for raw in args.header or []:
        name, sep, value = raw.partition(":")
        if not sep or not name.strip():
            raise Fail(f"-H {raw!r} is not 'Name: value'", "write each header as -H 'Name: value'")
        headers.append((name.strip(), value.strip()))
    body = read_body(args.body)
    try:
        request = WebhookRequest(
            method=args.method or "POST",
            url=args.url or "",
            headers=headers,
            body=body,
            received_at=time.time() if args.now is None else args.now,
        )
    except WebhookError as exc:
        raise Fail(f"the request cannot be built: {exc}", "check -H and --body") from None
    candidates = {h.name for h in registry.candidates(request)}
    for handler in registry:
        if not handler.enabled:
            out(f"  {handler.name}: disabled")
        elif handler.name not in candidates:
            missing = [h for h in handler.verifier.required_headers if h not in request.headers]
            out(f"  {handler.name}: skipped, missing header(s) {', '.join(missing)}")
        else:
            try:
                result = handler.verifier.verify(request)
            except VerificationError as exc:
                out(f"  {handler.name}: {exc.reason}: {exc}")
                if isinstance(exc, TimestampOutsideTolerance):
                    from .audit import freshness_lines

                    for line in freshness_lines(exc):
                        out(f"    {line}")
                elif isinstance(exc, SignatureMismatch) and _verifies_trimmed(handler, request):
                    out(
                        "    the body without its final line break verifies: the file has one "
                        "the sender did not send (an editor adds it); save the exact bytes sent"
                    )
            else:
                out(
                    f"  {handler.name}: verified ({result.scheme}, key {result.key_id}, "
                    f"delivery id {result.delivery_id or '-'})"
                )
    try:
        match = registry.verify(request)
    except NoHandlerMatched:
        out("result: no handler verified this request (the receiver would answer 401)")
        return 1
    except VerificationError as exc:
        out(f"result: refused ({exc.reason})")
        return 1
    out(f"result: handler {match.handler.name!r} wins, acting as user {match.handler.user!r}")
    return 0


def _verifies_trimmed(handler: Handler, request: WebhookRequest) -> bool:
    """Whether ``request`` verifies without the line break that ends its body,
    the one an editor adds to a delivery's body pasted into a file."""
    trimmed = request.body.removesuffix(b"\n").removesuffix(b"\r")
    if trimmed == request.body:
        return False
    try:
        handler.verifier.verify(request.replace(body=trimmed))
    except VerificationError:
        return False
    return True


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
        out(json.dumps(record))
        sys.stdout.flush()

    bus.bind("webhook.received", show)
    options: dict[str, Any] = {"public_url": args.public_url or table.get("public_url")}
    if "max_body_size" in table:
        options["max_body_size"] = table["max_body_size"]
    try:
        app = WebhookApp(Receiver(registry, bus), **options)
    except ConfigurationError as exc:
        # the file's settings were checked when it was loaded: --public-url is left
        where, setting = (
            ("--public-url", "--public-url")
            if args.public_url
            else (args.config, "[webhooks] max_body_size and public_url")
        )
        raise Fail(f"{where}: {exc}", f"check {setting}") from None
    try:
        server = make_wsgi_server(_only_on(args.path, app), args.host, args.port)
    except OSError as exc:
        raise Fail(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror}", "check --host and --port"
        ) from None
    out(f"listening on http://{args.host}:{server.server_port}{args.path} (Ctrl-C stops)")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _only_on(path: str, app: WSGIApplication) -> WSGIApplication:
    """``app`` on ``path`` (in every spelling the middlewares guard), 404 elsewhere.

    Raises:
        Fail: ``path`` is not an absolute path such as ``/webhooks``.
    """
    from ._paths import PathSet, environ_paths

    try:
        guarded = PathSet("webhookverify serve --path", path, None)
    except ConfigurationError as exc:
        raise Fail(str(exc), "give --path as an absolute path such as /webhooks") from None
    not_found = f"not found: webhooks are received at {path}\n".encode()

    def serve(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if guarded.matches(*environ_paths(environ)):
            return app(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [not_found]

    return serve


# -- plumbing ------------------------------------------------------------------------


def _registry(path: str) -> HandlerRegistry:
    from .config import load_registry

    try:
        return load_registry(path)
    except ConfigurationError as exc:
        remedy = exc.remedy or "fix the configuration file; see webhookverify.config"
        raise Fail(str(exc), remedy) from None


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
    sign.add_argument("--url", help="the URL, for schemes that sign it (Trello: callback_url)")
    sign.add_argument("--method", help="the method, for schemes that sign it (default POST)")
    sign.add_argument("--id", help="the delivery id, for schemes that sign one")
    sign.add_argument(
        "-H", "--header", action="append", help="another header to send, 'Name: value' (repeat)"
    )
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
    serve.add_argument("--path", default="/webhooks", help="the webhook path (others get 404)")
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
            raise Fail("stdout is closed", "run it with its output open (or sent to /dev/null)")
        args = _parser().parse_args(argv)  # --version writes here
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        code: int = args.run(args)
        sys.stdout.flush()  # here, so that a reader gone away is seen here
    except Fail as failure:
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
