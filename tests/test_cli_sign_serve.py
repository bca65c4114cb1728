"""``webhookverify sign -H``, ``sign`` for URL-signing presets, and ``serve``'s path."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from webhookverify import HmacVerifier, WebhookRequest, presets
from webhookverify.cli import main

CONFIG = """
[webhooks]
allow_inline_secrets = true

[[webhooks.handlers]]
name = "tiki"
verifier = "hmac"
header = "Webhook-Signature"
encoding = "base64"
secret = "short"
user = "admin"
"""

SECRET = "s" * 16


def _sign(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["sign", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- sign -H -------------------------------------------------------------------------


def test_sign_adds_the_headers_given_with_h(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--preset", "github", "--secret", SECRET, "--now", "1700000000"]
    code, out, err = _sign(
        capsys, *argv, "-H", "X-GitHub-Event: push", "--header", "X-GitHub-Delivery:  d-1 "
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:2] == ["X-GitHub-Event: push", "X-GitHub-Delivery: d-1"]
    signature = presets.github(secret=SECRET).sign(b"{}", 1700000000)["X-Hub-Signature-256"]
    assert lines[2:] == [f"X-Hub-Signature-256: {signature}"]

    code, out, err = _sign(
        capsys, *argv, "-H", "X-GitHub-Event: push", "--curl", "http://127.0.0.1:8000/webhooks"
    )
    assert code == 0, err
    assert out.startswith(
        "curl -sS -i -X POST -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' "
        f"-H 'X-Hub-Signature-256: {signature}' --data-binary '{{}}' "
    )


def test_sign_h_content_type_replaces_the_json_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _sign(
        capsys,
        *("--preset", "github", "--secret", SECRET, "--curl", "http://127.0.0.1:8000/"),
        *("-H", "Content-Type: application/vnd.api+json"),
    )
    assert code == 0, err
    assert out.count("Content-Type") == 1
    assert "-H 'Content-Type: application/vnd.api+json'" in out


@pytest.mark.parametrize(
    ("header", "cause"),
    [
        ("X-GitHub-Event push", "is not 'Name: value'"),
        (": push", "is not 'Name: value'"),
        ("X GitHub: push", "is not 'Name: value'"),
        ("X-GitHub-Event: push\r\nX-Injected: 1", "control character"),
        ("x-hub-signature-256: sha256=00", "a header the signature sets"),
    ],
)
def test_sign_refuses_a_bad_header_in_one_line(
    header: str, cause: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _sign(capsys, "--preset", "github", "--secret", SECRET, "-H", header)
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert cause in lines[0]
    assert lines[1].startswith("remedy:")


# -- sign for a preset that signs a configured URL -------------------------------------


@pytest.mark.parametrize(("preset", "setting"), [("trello", "callback_url"), ("monday", "url")])
def test_sign_gives_url_to_a_preset_that_signs_its_configured_url(
    preset: str, setting: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "https://hooks.example.com/cards?board=1"
    code, out, err = _sign(
        capsys, "--preset", preset, "--secret", SECRET, "--url", url, "--now", "1700000000"
    )
    assert code == 0, err
    headers = [tuple(line.split(": ", 1)) for line in out.splitlines()]
    verifier = getattr(presets, preset)(secret=SECRET, **{setting: url})
    request = WebhookRequest(
        method="POST", url=url, headers=headers, body=b"{}", received_at=1700000000
    )
    assert verifier.verify(request).scheme

    code, out, err = _sign(capsys, "--preset", preset, "--secret", SECRET)
    assert code == 2
    cause, remedy = err.splitlines()
    assert f"presets.{preset} needs {setting}" in cause
    assert "--url" in remedy


# -- serve --path ----------------------------------------------------------------------


def _post(port: int, path: str, body: bytes, headers: dict[str, str]) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", path, body=body, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def test_serve_answers_webhooks_only_on_its_path(tmp_path: Path) -> None:
    config = tmp_path / "webhooks.toml"
    config.write_text(CONFIG)
    argv = [sys.executable, "-m", "webhookverify.cli", "serve", "--config", str(config)]
    process = subprocess.Popen(
        [*argv, "--port", "0", "--path", "/hooks/in"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/hooks/in ", banner)
        assert match, banner
        port = int(match.group(1))
        signer = HmacVerifier(secret="short", header="Webhook-Signature", encoding="base64")

        def deliver(path: str, body: bytes) -> int:
            return _post(port, path, body, signer.sign(body))

        def printed() -> int:
            return int(json.loads(process.stdout.readline())["bytes"])  # type: ignore[union-attr]

        assert deliver("/hooks/in", b'{"n": 1}') == 200
        assert printed() == len(b'{"n": 1}')
        # a signed delivery elsewhere is not received
        for path in ("/", "/webhooks", "/hooks", "/hooks/in/more", "/other?x=/hooks/in"):
            assert deliver(path, b'{"n": 22}') == 404, path
        # the spellings the middlewares guard are the webhook path too
        for number, path in enumerate(
            ("//hooks//in/", "/Hooks/IN", "/hooks/%69n", "/x/../hooks/in")
        ):
            body = json.dumps({"n": 3, "pad": "x" * number}).encode()
            assert deliver(path, body) == 200, path
            assert printed() == len(body)  # the 404s above printed nothing
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
        if process.stderr is not None:
            process.stderr.close()


def test_serve_refuses_a_path_that_is_not_absolute(tmp_path: Path) -> None:
    config = tmp_path / "webhooks.toml"
    config.write_text(CONFIG)
    serve = [sys.executable, "-m", "webhookverify.cli", "serve", "--config", str(config)]
    result = subprocess.run(
        [*serve, "--port", "0", "--path", "hooks"],
        capture_output=True,
        text=True,
        timeout=30,  # a server that started anyway would be stopped here
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    cause, remedy = result.stderr.splitlines()
    assert "must be an absolute path" in cause
    assert "--path" in remedy
