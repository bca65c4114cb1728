from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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

[[webhooks.handlers]]
name = "gitlab"
verifier = "token"
header = "X-Gitlab-Token"
secret = "a-long-enough-token-value"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "webhooks.toml"
    path.write_text(CONFIG)
    return path


def test_check_reports_handlers_and_warnings(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(config)]) == 0
    out = capsys.readouterr().out
    assert "2 handler(s), access on" in out
    assert "tiki: hmac-sha256; headers Webhook-Signature; user admin; replay content; keys 1" in out
    assert "secret[0] is 5 bytes" in out
    assert "a token proves less than a signature" in out
    assert "short" not in out.replace("secret[0] is 5 bytes", "")
    assert out.count("warning: secret is written in the file (allow_inline_secrets)") == 2


def test_check_bad_config_is_two_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        "[webhooks]\nallow_inline_secrets = true\n"
        "[[webhooks.handlers]]\nname='x'\nverifier='hmac'\nheader='S'\nsecret='s'\nalgorithm='md5'\n"
    )
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert err[0].startswith("webhookverify: bad.toml: handlers[0] 'x':")
    assert "md5" in err[0]
    assert err[1].startswith("remedy:")


def test_check_refuses_an_inline_secret_without_the_switch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "webhooks.toml"
    path.write_text(CONFIG.replace("allow_inline_secrets = true", ""))
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert err[0].startswith(
        "webhookverify: webhooks.toml: handlers[0] 'tiki': secret is written in the configuration"
    )
    assert "allow_inline_secrets = true" in err[0]
    assert err[1].startswith("remedy:")


def test_check_refuses_a_variable_name_as_the_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "webhooks.toml"
    path.write_text(CONFIG.replace('"short"', '"$TIKI_SECRET"'))
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert "handlers[0] 'tiki': secret looks like an environment variable" in err[0]
    assert 'write secret = "env:TIKI_SECRET"' in err[0]


KEYS = """
[[webhooks.handlers]]
name = "tiki"
verifier = "hmac"
header = "Webhook-Signature"
secrets = [
    { value = "env:TIKI_2025", key_id = "2025", not_after = 1767225600 },
    { value = "env:TIKI_2026", key_id = "2026", not_before = 1767225600 },
]

[[webhooks.handlers]]
name = "gitlab"
verifier = "token"
header = "X-Gitlab-Token"
secret = "env:GITLAB_TOKEN"
"""
KEY_ENV = {
    "TIKI_2025": "a-key-of-at-least-16-bytes",
    "TIKI_2026": "another-key-of-16-bytes",
    "GITLAB_TOKEN": "a-long-enough-token-value",
}


def _check_keys(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
    env: dict[str, str] = KEY_ENV,
) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "webhooks.toml"
    path.write_text(KEYS)
    assert main(["check", str(path), *args]) == 0
    out = capsys.readouterr().out
    assert "written in the file" not in out
    return out


def test_check_warns_about_keys_outside_their_window(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _check_keys(tmp_path, capsys, monkeypatch, "--now", "1767225599")
    assert "2026 is not valid before 2026-01-01 00:00:00 UTC (not_before)" in before
    assert "2025 expired" not in before
    after = _check_keys(tmp_path, capsys, monkeypatch, "--now", "1767225600")
    assert "2025 expired at 2026-01-01 00:00:00 UTC (not_after)" in after
    assert "2026 is not valid before" not in after
    assert "no key is valid now" not in before + after


def test_check_warns_when_no_key_is_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _check_keys(tmp_path, capsys, monkeypatch)  # the real clock: 2026 has begun
    assert "2025 expired at 2026-01-01 00:00:00 UTC" in out
    assert "no key is valid now" not in out
    path = tmp_path / "webhooks.toml"
    path.write_text(KEYS.replace(", not_before = 1767225600", ", not_after = 1767225600"))
    assert main(["check", str(path), "--now", "1767225600"]) == 0
    out = capsys.readouterr().out
    assert "tiki: " in out
    assert out.count("expired at 2026-01-01 00:00:00 UTC") == 2
    assert "no key is valid now: this handler refuses every delivery" in out


def test_check_warns_about_a_key_that_is_a_variable_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**KEY_ENV, "GITLAB_TOKEN": "${GITLAB_WEBHOOK_TOKEN}"}  # an env file not expanded
    out = _check_keys(tmp_path, capsys, monkeypatch, env=env)
    lines = out.splitlines()
    gitlab = lines.index(next(line for line in lines if line.startswith("  gitlab: ")))
    assert "secret[0] looks like an environment variable's name or reference" in lines[gitlab + 1]
    assert "GITLAB_WEBHOOK_TOKEN" not in out


def test_sign_then_explain(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(b'{"event":"x"}')
    assert main(["sign", "--config", str(config), "--handler", "tiki", "--body", str(body)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("Webhook-Signature: ")
    assert main(["explain", "--config", str(config), "-H", line, "--body", str(body)]) == 0
    out = capsys.readouterr().out
    assert "tiki: verified (hmac-sha256, key secret[0]" in out
    assert "gitlab: skipped, missing header(s) X-Gitlab-Token" in out
    assert "handler 'tiki' wins, acting as user 'admin'" in out
    body.write_bytes(b'{"event":"y"}')
    assert main(["explain", "--config", str(config), "-H", line, "--body", str(body)]) == 1
    out = capsys.readouterr().out
    assert "tiki: signature_mismatch" in out
    assert "would answer 401" in out


def test_sign_curl(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "sign",
                "--config",
                str(config),
                "--handler",
                "gitlab",
                "--curl",
                "http://127.0.0.1:8000/webhooks",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith(
        "curl -sS -i -X POST -H 'Content-Type: application/json' -H 'X-Gitlab-Token: a-long-enough-token-value'"
    )
    assert out.strip().endswith("http://127.0.0.1:8000/webhooks")


@pytest.mark.parametrize(
    ("argv", "cause"),
    [
        (["sign"], "sign needs --config and --handler, or --preset"),
        (["sign", "--preset", "no-such-preset"], "unknown preset"),
        (["sign", "--preset", "github"], "presets.github needs a secret"),
        (["sign", "--preset", "discord"], "presets.discord needs a public key"),
        (["explain", "--config", "CONFIG", "-H", "nocolon"], "is not 'Name: value'"),
        (["explain", "--config", "CONFIG", "-H", "X: \x01"], "cannot be built"),
        (["sign", "--config", "CONFIG", "--handler", "nobody"], "no handler named 'nobody'"),
        (["sign", "--config", "CONFIG"], "--config needs --handler"),
        (
            ["sign", "--config", "CONFIG", "--handler", "tiki", "--body", "/nonexistent"],
            "cannot read the body file",
        ),
    ],
)
def test_cli_errors_are_one_cause_one_remedy(
    argv: list[str], cause: str, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(config) if a == "CONFIG" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert cause in err[0]
    assert err[1].startswith("remedy:")


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["frobnicate"], ["sign", "--now", "soon"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[0].startswith("webhookverify: ")
        assert err[-1].startswith("remedy:")


def test_console_script_entry_point(config: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "webhookverify.cli", "check", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "2 handler(s)" in result.stdout


def test_demo_runs_a_real_receiver_and_every_answer_is_as_promised() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "webhookverify.cli", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "12 of 12 deliveries answered as promised" in out
    assert "the application saw 3 deliveries, each exactly once" in out
    for row in ("body tampered in transit         401", "the same push replayed           200"):
        assert row in out
    assert "Traceback" not in result.stderr


def test_serve_prints_each_verified_delivery(tmp_path: Path) -> None:
    import http.client
    import re

    from webhookverify import HmacVerifier

    config = tmp_path / "webhooks.toml"
    config.write_text(CONFIG.replace("[webhooks]\n", "[webhooks]\nmax_body_size = 4096\n", 1))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "webhookverify.cli",
            "serve",
            "--config",
            str(config),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/webhooks", banner)
        assert match, banner
        port = int(match.group(1))
        body = b'{"event":"served"}'
        signer = HmacVerifier(secret="short", header="Webhook-Signature", encoding="base64")

        def post(payload: bytes, headers: dict[str, str]) -> int:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                connection.request("POST", "/webhooks", body=payload, headers=headers)
                return connection.getresponse().status
            finally:
                connection.close()

        assert post(body, signer.sign(body)) == 200
        line = process.stdout.readline()
        assert '"handler": "tiki"' in line
        assert '"user": "admin"' in line
        assert post(body + b" ", signer.sign(body)) == 401
        big = b"x" * 5000
        assert post(big, signer.sign(big)) == 413
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_version_prints_the_installed_version() -> None:
    from importlib.metadata import version

    result = subprocess.run(
        [sys.executable, "-m", "webhookverify.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"webhookverify {version('webhookverify')}\n"


def test_version_falls_back_to_the_source_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    import webhookverify
    from webhookverify._clitools import package_version

    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    assert package_version() == webhookverify.__version__


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "CONFIG"],
        ["sign", "--config", "CONFIG", "--handler", "tiki", "--curl", "http://127.0.0.1/"],
        ["--version"],
    ],
)
def test_a_reader_gone_away_stops_the_command_quietly(argv: list[str], config: Path) -> None:
    """`webhookverify ... | head -1`: no traceback, no 'Exception ignored', status 141."""
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "webhookverify.cli",
                *(str(config) if a == "CONFIG" else a for a in argv),
            ],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == 141


TWO_SENDERS = """
[[webhooks.handlers]]
name = "github"
preset = "github"
secret = "env:GITHUB_WEBHOOK_SECRET"

[[webhooks.handlers]]
name = "gitlab"
verifier = "token"
header = "X-Gitlab-Token"
secret = "env:GITLAB_TOKEN"
"""


@pytest.fixture
def two_senders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """GitHub's secret is set, GitLab's is not."""
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "a-github-secret-of-some-length")
    monkeypatch.delenv("GITLAB_TOKEN", raising=False)
    path = tmp_path / "webhooks.toml"
    path.write_text(TWO_SENDERS)
    return path


def test_sign_needs_only_the_handler_it_signs_for(
    two_senders: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sign", "--config", str(two_senders), "--handler", "github"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("X-Hub-Signature-256: sha256=")
    assert main(["sign", "--config", str(two_senders), "--handler", "gitlab"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert "handlers[1] 'gitlab': secret reads the environment variable GITLAB_TOKEN" in err[0]


def test_an_unset_variable_names_itself_and_how_to_set_it(
    two_senders: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(two_senders)]) == 2
    cause, remedy = capsys.readouterr().err.strip().splitlines()
    assert "'gitlab': secret reads the environment variable GITLAB_TOKEN, which is not set" in cause
    assert remedy.startswith("remedy: export GITLAB_TOKEN='...'")


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["sign", "--config", "CONFIG", "--handler", "gitlb"], "did you mean 'gitlab'?"),
        (["sign", "--preset", "githb", "--secret", "s"], "did you mean 'github'?"),
        (["sign", "--config", "CONFIG", "--handler", "nobody"], "the handlers are github, gitlab"),
    ],
)
def test_a_misspelt_name_is_answered_with_the_nearest(
    argv: list[str], hint: str, two_senders: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(two_senders) if a == "CONFIG" else a for a in argv]) == 2
    cause, remedy = capsys.readouterr().err.strip().splitlines()
    assert cause.endswith(hint)
    assert remedy.startswith("remedy: ")


SLACK = """
[webhooks]
allow_inline_secrets = true

[[webhooks.handlers]]
name = "slack"
preset = "slack"
secret = "a-slack-signing-secret"
"""


@pytest.mark.parametrize(
    ("judged_at", "lines"),
    [
        (
            "1767229200.5",
            [
                "    signed at 1767225600 (2026-01-01 00:00:00 UTC)",
                "    now       1767229200.5 (2026-01-01 01:00:00 UTC)",
                "    3600.5 s old; tolerance is 300 s (--now T judges the request at another time)",
            ],
        ),
        (
            "1767222000",
            [
                "    signed at 1767225600 (2026-01-01 00:00:00 UTC)",
                "    now       1767222000 (2025-12-31 23:00:00 UTC)",
                "    3600 s ahead of this clock; future_tolerance is 300 s (--now T judges "
                "the request at another time)",
            ],
        ),
    ],
)
def test_explain_shows_the_numbers_behind_a_timestamp_refusal(
    judged_at: str, lines: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "webhooks.toml"
    config.write_text(SLACK)
    assert main(["sign", "--config", str(config), "--handler", "slack", "--now", "1767225600"]) == 0
    headers = capsys.readouterr().out.strip().splitlines()
    flags = [arg for header in headers for arg in ("-H", header)]
    argv = ["explain", "--config", str(config), *flags]
    assert main([*argv, "--now", judged_at]) == 1
    out = capsys.readouterr().out.splitlines()
    where = next(i for i, line in enumerate(out) if line.startswith("  slack: timestamp_"))
    assert out[where + 1 : where + 4] == lines
    assert main([*argv, "--now", "1767225700"]) == 0  # within the tolerance: no numbers
    assert "signed at" not in capsys.readouterr().out


def test_a_missing_configuration_file_says_where_it_was_looked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # "fix the configuration file" sent a newcomer to edit a file that is not there
    monkeypatch.chdir(tmp_path)
    assert main(["check", "webhook.toml"]) == 2
    cause, remedy = capsys.readouterr().err.strip().splitlines()
    assert cause == "webhookverify: webhook.toml: no such configuration file"
    assert remedy == f"remedy: check the path; it was looked for at {tmp_path / 'webhook.toml'}"


@pytest.mark.parametrize(
    ("secret", "warned"), [("sk_live_51Hx", True), ("rk_test_9", True), ("whsec_abc", False)]
)
def test_check_warns_about_an_api_key_given_as_stripe_signing_secret(
    secret: str,
    warned: bool,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Stripe's API key pasted where its endpoint's signing secret belongs: every
    # genuine delivery is refused as signature_mismatch, and nothing says why.
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", secret)
    path = tmp_path / "webhooks.toml"
    path.write_text(
        '[[webhooks.handlers]]\nname = "billing"\npreset = "stripe"\n'
        'secret = "env:STRIPE_WEBHOOK_SECRET"\n'
    )
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    expected = "secret[0] is not a Stripe signing secret (whsec_...)"
    assert (expected in out) is warned
    assert secret not in out


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b'{"action": "opened"}\n', "-H 'Content-Type: application/json' "), (b"a=1&b=2", "")],
)
def test_sign_curl_sends_json_as_json_and_shows_the_answer(
    body: bytes,
    content_type: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GitHub and every JSON sender say Content-Type: application/json; curl's
    # --data-binary says application/x-www-form-urlencoded unless told. And
    # without -i, a verified delivery and its replay (both an empty 200)
    # printed nothing at all.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "event.json").write_bytes(body)
    argv = ["sign", "--preset", "github", "--secret", "s" * 16, "--body", "event.json"]
    assert main([*argv, "--curl", "http://127.0.0.1:8000/"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"curl -sS -i -X POST {content_type}-H 'X-Hub-Signature-256: sha256=")
    assert out.endswith(" --data-binary @event.json http://127.0.0.1:8000/")
