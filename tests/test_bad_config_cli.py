"""Hostile configuration files and command lines: one line naming the cause.

Each configuration below is wrong in one way. Loading it must raise
:class:`ConfigurationError` with one line that names the file (and the
handler, where one is at fault) and the setting to change; never another
exception, never a registry that means something else. The command line
answers each with two lines on stderr (cause, remedy) and status 2.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from webhookverify import ConfigurationError
from webhookverify.cli import main
from webhookverify.config import load_registry

HEAD = "[webhooks]\nallow_inline_secrets = true\n"
GITHUB = '[[webhooks.handlers]]\nname = "gh"\npreset = "github"\nsecret = "s3cret-value"\n'
GOOD = HEAD + GITHUB
SNS = '[[webhooks.handlers]]\nname = "sns"\npreset = "aws_sns"\ntopics = ["arn:aws:sns:x:1:t"]\n'
GRAPH = (
    '[[webhooks.handlers]]\nname = "graph"\npreset = "microsoft_graph"\nclient_state = "state"\n'
)
HMAC = '[[webhooks.handlers]]\nname = "h"\nverifier = "hmac"\nheader = "X-Sig"\nsecret = "abc"\n'

# name: (file content, what the message must name)
CONFIGS: dict[str, tuple[bytes | str, tuple[str, ...]]] = {
    # what the file is made of
    "not UTF-8": (b"[webhooks]\n# caf\xe9\n", ("not UTF-8", "line 2")),
    "binary": (b"\xff\xfe\x00\x01garbage", ("not UTF-8",)),
    "too large": ("#" * (2 << 20), ("larger than",)),  # a comment of 2 MiB: not a configuration
    "TOML syntax": ("[webhooks\n", ("not valid TOML", "line 1")),
    "empty": ("", ("no handlers",)),
    # [webhooks]
    "max_body_size text": (
        HEAD + 'max_body_size = "1MB"\n' + GITHUB,
        ("[webhooks]", "max_body_size"),
    ),
    "public_url number": (HEAD + "public_url = 5\n" + GITHUB, ("[webhooks]", "public_url")),
    "strict text": (HEAD + 'strict = "yes"\n' + GITHUB, ("strict", "true or false")),
    "misspelt top setting": (HEAD + "strcit = true\n" + GITHUB, ("strcit", "'strict'")),
    # a handler's own settings
    "enabled text": (GOOD + 'enabled = "false"\n', ("'gh'", "enabled")),
    "enabled number": (GOOD + "enabled = 0\n", ("'gh'", "enabled")),
    "replay_ttl nan": (GOOD + "replay_ttl = nan\n", ("'gh'", "replay_ttl")),
    "replay_ttl inf": (GOOD + "replay_ttl = inf\n", ("'gh'", "replay_ttl")),
    "replay_ttl negative": (GOOD + "replay_ttl = -1\n", ("'gh'", "replay_ttl")),
    "replay unknown": (GOOD + 'replay = "ids"\n', ("'gh'", "replay")),
    "dotted name": (GOOD.replace('"gh"', '"g.h"'), ("'g.h'", "'.'")),
    "duplicate name": (GOOD + GITHUB.replace("secret =", "secrets = [") + "]\n", ("'gh'",)),
    "misspelt setting": (GOOD.replace("secret =", "secert ="), ("'gh'", "'secret'")),
    "misspelt preset": (GOOD.replace('"github"', '"githib"'), ("'gh'", "'github'")),
    "unset variable": (
        GOOD.replace('"s3cret-value"', '"env:WEBHOOKVERIFY_UNSET_VARIABLE"'),
        ("'gh'", "export WEBHOOKVERIFY_UNSET_VARIABLE"),
    ),
    "misspelt header_format key": (
        HEAD + HMAC + 'header_format = { signature_kye = "v1" }\n',
        ("'h'", "header_format", "'signature_key'"),
    ),
    "required setting missing": (
        GOOD.replace('"github"', '"trello"'),
        ("'gh'", "needs callback_url = ..."),
    ),
    # a preset's or verifier's settings, wrong in type
    "legacy_sha1 text": (GOOD + 'legacy_sha1 = "no"\n', ("'gh'", "legacy_sha1")),
    "secrets table": (
        GOOD.replace('secret = "s3cret-value"', 'secrets = { a = "s3cret" }'),
        ("'gh'", "secrets"),
    ),
    "basic text": (
        HEAD + HMAC.replace('"hmac"', '"token"').replace('"X-Sig"', '"X-T"') + 'basic = "no"\n',
        ("'h'", "basic"),
    ),
    "algorithm list": (HEAD + HMAC + 'algorithm = ["sha256"]\n', ("'h'", "algorithm")),
    "topics number": (HEAD + SNS.replace('["arn:aws:sns:x:1:t"]', "5"), ("'sns'", "topics")),
    "signature_versions number": (
        HEAD + SNS + "signature_versions = 2\n",
        ("'sns'", "signature_versions"),
    ),
    "regions number": (HEAD + SNS + "regions = 2\n", ("'sns'", "regions")),
    "tenant_ids text": (HEAD + GRAPH + 'tenant_ids = "abc"\n', ("'graph'", "tenant_ids")),
    "environment list": (
        HEAD + '[[webhooks.handlers]]\nname = "pp"\npreset = "paypal"\nwebhook_id = "W"\n'
        'environment = ["live"]\n',
        ("'pp'", "environment"),
    ),
    "verification list": (
        HEAD + GITHUB.replace('"github"', '"tiki"') + 'verification = ["hmac"]\n',
        ("'gh'", "verification"),
    ),
    "keys number": (
        HEAD
        + '[[webhooks.handlers]]\nname = "pp"\npreset = "paypal"\nwebhook_id = "W"\nkeys = 5\n',
        ("'pp'", "keys"),
    ),
}


Writer = Callable[..., Path]


@pytest.fixture
def write(tmp_path: Path) -> Writer:
    def write(content: bytes | str, name: str = "webhooks.toml") -> Path:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return path

    return write


@pytest.mark.parametrize("case", CONFIGS, ids=list(CONFIGS))
def test_a_hostile_configuration_gets_one_line_naming_the_cause(write: Writer, case: str) -> None:
    content, named = CONFIGS[case]
    path = write(content)
    with pytest.raises(ConfigurationError) as caught:
        load_registry(path, environ={})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(("webhooks.toml: ", f"{path}: ")), message
    for part in named:
        assert part in message, (part, message)


@pytest.mark.parametrize("case", ["not UTF-8", "enabled text", "max_body_size text"])
def test_check_answers_a_hostile_configuration_in_two_lines(
    write: Writer, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(CONFIGS[case][0])
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[0].startswith("webhookverify: ") and err[1].startswith("remedy: ")


ARGUMENTS = {
    "--now nan": ["sign", "--preset", "stripe", "--secret", "s", "--now", "nan"],
    "--now inf": ["sign", "--preset", "stripe", "--secret", "s", "--now", "inf"],
    "--now -5": ["sign", "--preset", "stripe", "--secret", "s", "--now=-5"],
    "--now 1e300": ["sign", "--preset", "stripe", "--secret", "s", "--now", "1e300"],
    "check --now nan": ["check", "CONFIG", "--now", "nan"],
    "explain --now nan": ["explain", "--config", "CONFIG", "--now", "nan"],
    "--port 99999": ["serve", "--config", "CONFIG", "--port", "99999"],
    "--port -1": ["serve", "--config", "CONFIG", "--port=-1"],
    "--port x": ["serve", "--config", "CONFIG", "--port", "x"],
}


@pytest.mark.parametrize("case", ARGUMENTS, ids=list(ARGUMENTS))
def test_a_bad_argument_is_a_usage_error(
    write: Writer, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(write(GOOD))
    argv = [config if arg == "CONFIG" else arg for arg in ARGUMENTS[case]]
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert len(err) == 2 and err[0].startswith("webhookverify: argument --")
    assert captured.out == ""


def test_explain_never_judges_a_signature_at_no_time(
    write: Writer, capsys: pytest.CaptureFixture[str]
) -> None:
    # nan compares false with everything: a delivery signed long ago passed
    config = write(
        HEAD + GITHUB.replace('"github"', '"stripe"').replace("s3cret-value", "whsec_abc")
    )
    body = write("{}", "body.json")
    assert (
        main(
            [
                "sign",
                "--config",
                str(config),
                "--handler",
                "gh",
                "--body",
                str(body),
                "--now",
                "1000",
            ]
        )
        == 0
    )
    header = capsys.readouterr().out.strip()
    with pytest.raises(SystemExit):
        main(
            ["explain", "--config", str(config), "-H", header, "--body", str(body), "--now", "nan"]
        )
    assert (
        main(
            ["explain", "--config", str(config), "-H", header, "--body", str(body), "--now", "1000"]
        )
        == 0
    )


def test_a_body_from_a_closed_stdin_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", None)  # what Python gives a process started with <&-
    assert main(["sign", "--preset", "github", "--secret", "s", "--body", "-"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "webhookverify: --body - reads stdin, which is closed",
        "remedy: pipe the body in, or --body FILE",
    ]


def test_a_body_from_stdin_is_read(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"{}")))
    assert main(["sign", "--preset", "github", "--secret", "s", "--body", "-"]) == 0
    assert capsys.readouterr().out.startswith("X-Hub-Signature-256: sha256=")


def test_a_closed_stdout_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdout", None)  # what Python gives a process started with >&-
    assert main(["sign", "--preset", "github", "--secret", "s"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "webhookverify: stdout is closed" and len(err) == 2


def test_a_signing_failure_names_the_arguments_not_the_keys(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Twilio signs the URL with the form body: a JSON body needs bodySHA256 in the URL
    assert main(["sign", "--preset", "twilio", "--secret", "s", "--url", "https://x.test/"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("webhookverify: cannot sign: ")
    assert err[1] == "remedy: check --url, --method, --id and --body"


def test_a_key_file_that_is_not_a_key_is_refused_unread(write: Writer) -> None:
    # a log or /dev/zero named by mistake: read no further than a key can be
    big = write("a" * (1 << 20), "webhooks.log")
    path = write(GOOD.replace('"s3cret-value"', f'"file:{big}"'))
    with pytest.raises(ConfigurationError, match=r"^webhooks\.toml: handlers\[0\] 'gh': secret "):
        load_registry(path)


@pytest.mark.parametrize("source", [None, 5, b"webhooks.toml", ["webhooks.toml"]])
def test_a_configuration_that_is_neither_a_path_nor_a_mapping_is_refused(source: object) -> None:
    with pytest.raises(ConfigurationError, match="path or a mapping"):
        load_registry(source)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "extra",
    [["--preset", "stripe"], ["--secret", "other"], ["--private-key", "k"]],
    ids=["--preset", "--secret", "--private-key"],
)
def test_sign_refuses_a_handler_and_a_preset_together(
    write: Writer, extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # one of them was silently ignored: the headers printed were not for the key given
    argv = ["sign", "--config", str(write(GOOD)), "--handler", "gh", *extra]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"webhookverify: --config/--handler and {extra[0]} ")
