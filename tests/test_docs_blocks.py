"""Every code block in README.md and docs/ runs, or is checked, against the code.

What each kind of block gets:

- ``python``: executed in a fresh interpreter, in a temporary working
  directory, with the environment below. A block starts a new namespace
  unless ``<!-- docs: continue -->`` precedes it: it then runs after the
  page's previous Python block, in the same namespace (one example told in
  several blocks). ``<!-- docs: redis -->`` before a block that starts a
  namespace: the block, and those continuing it, need a Redis server; they
  get the suite's (``REDIS_URL``, tests/_redis.py) as
  ``WEBHOOKVERIFY_REDIS_URL`` and, without one, skip, or fail when ``CI``
  is set, as every Redis test does. A block that is only a preset's signature
  (``presets.name(...)``, as the generated presets page shows them) is
  compared with the function's real signature instead.
- ``bash`` / ``console`` (``$ `` prompts stripped): ``webhookverify ...`` runs
  the command line in the page's working directory, which holds
  ``event.json`` and every file a ``toml`` block of the page named in its
  first line (``# webhooks.toml``); it must exit 0 (``explain`` may exit 1,
  its answer when no handler verifies) and never print a traceback;
  ``serve`` must still be serving after a moment. ``pip install ...`` is
  checked, not run: the package, its extras and dependency groups exist in
  pyproject.toml. ``python3 tasks.py X`` is checked: ``X`` is a command of
  tasks.py (running it would run this suite). Any other command fails: run
  it here or mark the block.
- ``toml``: parsed; a configuration with handlers is loaded with
  :func:`webhookverify.config.load_registry` (``file:`` keys read fixture
  files created for it; ``env:`` keys the environment below).
- any other language (``text``, ``http``...): labelled, not run. An
  unlabelled block fails, except one made only of ``pip install`` lines
  (README's Install block, whose form tests/test_docs.py fixes).
- ``<!-- docs: no-run REASON -->`` before a block: not run; the reason is
  required.

The environment of every block: the variables of :data:`DOCS_ENV` (test keys
under the names the pages read them from), ``HOME`` a temporary directory.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import webhookverify
from webhookverify import presets
from webhookverify.config import load_registry

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
PACKAGE_ROOT = str(Path(webhookverify.__file__).resolve().parent.parent)

# A fixed Ed25519 key pair (RFC 8032 §7.1, test 1): the "sender's" public key
# for the pages' public-key examples.
ED25519_PRIVATE_HEX = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
ED25519_PUBLIC_HEX = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
ED25519_PUBLIC_PEM = (
    "-----BEGIN PUBLIC KEY-----\n"
    + base64.b64encode(bytes.fromhex("302a300506032b6570032100" + ED25519_PUBLIC_HEX)).decode()
    + "\n-----END PUBLIC KEY-----\n"
)

# The secrets the pages read, by the names they read them under.
DOCS_ENV = {
    "GITHUB_WEBHOOK_SECRET": "docs-github-secret",
    "STRIPE_WEBHOOK_SECRET": "whsec_docs-stripe-secret",
    "SLACK_SIGNING_SECRET": "docs-slack-signing-secret",
    "X_CONSUMER_SECRET": "docs-x-consumer-secret",
    "META_APP_SECRET": "docs-meta-app-secret",
    "META_VERIFY_TOKEN": "docs-meta-verify-token",
    "STANDARD_WEBHOOKS_SECRET": "whsec_" + base64.b64encode(b"docs-standard-webhooks-key").decode(),
    "SVIX_WEBHOOK_SECRET": "whsec_" + base64.b64encode(b"docs-svix-webhook-key-0001").decode(),
    "GITLAB_TOKEN": "docs-gitlab-token",
    "PAYMENTS_SECRET": "docs-payments-secret",
    "TIKI_KEY_2025": "docs-tiki-key-2025",
    "TIKI_KEY_2026": "docs-tiki-key-2026",
    "DISCORD_PUBLIC_KEY": ED25519_PUBLIC_HEX,
    "SENDER_ED25519_PUBLIC_KEY": ED25519_PUBLIC_PEM,
    "SENDER_HMAC_KEY": "docs-http-message-signature-key-32-bytes-long",
}

EVENT_JSON = json.dumps({"id": "evt_docs", "type": "ping", "zen": "Keep it logically awesome."})

FENCE = re.compile(
    r"^(?P<fence>```|~~~)(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.S | re.M
)
MARKER = re.compile(r"<!--\s*docs:\s*(?P<verb>[\w-]+)\s*(?P<reason>.*?)\s*-->\s*\Z", re.S)
SIGNATURE = re.compile(r"\Apresets\.(?P<name>\w+)\((?P<params>.*)\)\s*\Z", re.S)


@dataclass
class Block:
    page: Path
    line: int  # of the opening fence
    lang: str
    body: str
    marker: str | None = None  # "no-run", "continue", "redis"
    reason: str = ""
    group: list[Block] = field(default_factory=list)  # python: the blocks run together

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT).as_posix()}:{self.line}"

    @property
    def needs_redis(self) -> bool:
        return any(b.marker == "redis" for b in self.group)


def _blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip()
        marker = MARKER.search(before[-400:])
        found.append(
            Block(
                page=page,
                line=text.count("\n", 0, match.start()) + 1,
                lang=(match["info"].split() or [""])[0].lower(),
                body=match["body"],
                marker=marker["verb"] if marker else None,
                reason=marker["reason"] if marker else "",
            )
        )
    return found


def _all_blocks() -> list[Block]:
    blocks = []
    for page in PAGES:
        group: list[Block] = []
        for block in _blocks(page):
            if block.lang == "python" and block.marker != "no-run":
                if block.marker != "continue" or not group:
                    group = []
                group.append(block)
                block.group = list(group)
            blocks.append(block)
    return blocks


BLOCKS = _all_blocks()


def _ids(blocks: list[Block]) -> list[str]:
    return [b.where for b in blocks]


def _kind(block: Block) -> str:
    if block.marker == "no-run":
        return "no-run"
    if block.lang == "python":
        return "signature" if SIGNATURE.match(block.body.strip()) else "python"
    if block.lang in ("bash", "console", "sh", "shell"):
        return "shell"
    if block.lang == "toml":
        return "toml"
    if not block.lang and all(
        line.strip().startswith("pip install ") for line in block.body.splitlines() if line.strip()
    ):
        return "shell"
    return "label"


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBHOOKVERIFY")}
    env.update(DOCS_ENV)
    env["HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join([PACKAGE_ROOT, env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    env["NO_COLOR"] = "1"
    return env


def _workdir(tmp_path: Path, page: Path) -> Path:
    """The page's working directory: event.json and the page's named TOML files."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "event.json").write_text(EVENT_JSON, encoding="utf-8")
    for block in _blocks(page):
        first = block.body.lstrip().splitlines()[0] if block.body.strip() else ""
        named = re.fullmatch(r"#\s*([\w.-]+\.toml)\s*", first)
        if block.lang == "toml" and named:
            (work / named[1]).write_text(block.body, encoding="utf-8")
    return work


# -- python --------------------------------------------------------------------------

RUNNER = """
import json, sys, traceback
namespace = {"__name__": "__docs__"}
for where, source in json.load(sys.stdin):
    try:
        exec(compile(source, where, "exec"), namespace)
    except BaseException:
        traceback.print_exc()
        print(f"the block at {where} failed", file=sys.stderr)
        sys.exit(1)
"""


def _padded(block: Block) -> str:
    # pad with blank lines so that a traceback's line numbers are the page's
    return "\n" * block.line + block.body


@pytest.mark.parametrize(
    "block",
    [
        pytest.param(b, id=b.where, marks=[pytest.mark.redis] if b.needs_redis else [])
        for b in BLOCKS
        if _kind(b) == "python"
    ],
)
def test_python_block_runs(block: Block, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    work = _workdir(tmp_path, block.page)
    env = _env(tmp_path)
    if block.needs_redis:
        # the suite's Redis fixture: skips without a server, fails under CI
        env["WEBHOOKVERIFY_REDIS_URL"] = request.getfixturevalue("redis_url")
    sources = [(b.page.relative_to(ROOT).as_posix(), _padded(b)) for b in block.group]
    result = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=json.dumps(sources),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=work,
        env=env,
    )
    assert result.returncode == 0, f"{block.where}:\n{result.stdout}\n{result.stderr}"


def _bare(signature: Any) -> Any:
    import inspect

    params = [p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()]
    return signature.replace(parameters=params, return_annotation=inspect.Signature.empty)


@pytest.mark.parametrize(
    "block",
    [b for b in BLOCKS if _kind(b) == "signature"],
    ids=_ids([b for b in BLOCKS if _kind(b) == "signature"]),
)
def test_signature_block_matches_the_code(block: Block) -> None:
    import inspect

    match = SIGNATURE.match(block.body.strip())
    assert match
    namespace: dict[str, Any] = {}
    exec(f"def shown({match['params']}): pass", namespace)
    real = getattr(presets, match["name"])
    assert str(_bare(inspect.signature(namespace["shown"]))) == str(
        _bare(inspect.signature(real))
    ), block.where


# -- shell ---------------------------------------------------------------------------


def _commands(block: Block) -> Iterator[list[str]]:
    lines = block.body.splitlines()
    joined: list[str] = []
    pending = ""
    for line in lines:
        if block.lang == "console":
            if not line.startswith("$ ") and not pending:
                continue  # output shown after a command
            line = line[2:] if line.startswith("$ ") else line
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    for command in joined:
        words = shlex.split(command, comments=True)
        if words:
            yield words


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _check_pip(words: list[str], where: str) -> None:
    project = _pyproject()
    extras = set(project["project"].get("optional-dependencies", {}))
    groups = set(project.get("dependency-groups", {}))
    args = iter(words[2:])
    for arg in args:
        if arg == "--group":
            group = next(args, "")
            assert group in groups, f"{where}: no dependency group {group!r} in pyproject.toml"
        elif arg in ("-e", "--editable"):
            assert next(args, "") == ".", f"{where}: install the project with -e ."
        elif arg.startswith("-"):
            assert arg in ("-q", "--quiet", "-U", "--upgrade"), f"{where}: pip option {arg}"
        else:
            requirement = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[([\w,\s-]+)\])?(.*)", arg)
            assert requirement, f"{where}: cannot read the requirement {arg!r}"
            assert requirement[1] == project["project"]["name"], f"{where}: installs {arg}"
            for extra in (requirement[2] or "").split(","):
                assert not extra.strip() or extra.strip() in extras, (
                    f"{where}: no extra {extra.strip()!r} in pyproject.toml"
                )


def _check_tasks(words: list[str], where: str) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("tasks", ROOT / "tasks.py")
    assert spec and spec.loader
    tasks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tasks)
    assert len(words) >= 3, f"{where}: tasks.py needs a command"
    assert callable(getattr(tasks, words[2], None)), f"{where}: tasks.py has no {words[2]!r}"
    source = (ROOT / "tasks.py").read_text(encoding="utf-8")
    assert f'"{words[2]}": {words[2]}' in source, f"{where}: tasks.py does not dispatch {words[2]}"


CLI = "import sys; from webhookverify.cli import main; sys.exit(main(sys.argv[1:]))"
SERVE_SETTLE = 2.0  # seconds a `serve` command must stay up to count as serving


def _run_cli(words: list[str], where: str, work: Path, env: dict[str, str]) -> None:
    argv = [sys.executable, "-c", CLI, *words[1:]]
    if words[1:2] == ["serve"]:
        with subprocess.Popen(
            argv, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as server:
            time.sleep(SERVE_SETTLE)
            still = server.poll() is None
            server.terminate()
            out, err = server.communicate(timeout=30)
        if not still and "Address already in use" in err:
            pytest.skip(f"{where}: the port in {shlex.join(words)!r} is taken on this machine")
        assert still or server.returncode == 0, f"{where}: {shlex.join(words)}\n{out}\n{err}"
        return
    result = subprocess.run(
        argv, cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    output = result.stdout + result.stderr
    allowed = {0, 1} if words[1:2] == ["explain"] else {0}
    assert result.returncode in allowed, f"{where}: {shlex.join(words)}\n{output}"
    assert "Traceback" not in output, f"{where}: {shlex.join(words)}\n{output}"


@pytest.mark.parametrize(
    "block",
    [b for b in BLOCKS if _kind(b) == "shell"],
    ids=_ids([b for b in BLOCKS if _kind(b) == "shell"]),
)
def test_shell_block_runs_or_checks(block: Block, tmp_path: Path) -> None:
    work = _workdir(tmp_path, block.page)
    env = _env(tmp_path)
    commands = list(_commands(block))
    assert commands, f"{block.where}: an empty block"
    for words in commands:
        if words[:2] == ["pip", "install"]:
            _check_pip(words, block.where)
        elif words[:2] == ["python3", "tasks.py"]:
            _check_tasks(words, block.where)
        elif words[0] == "webhookverify":
            _run_cli(words, block.where, work, env)
        else:
            pytest.fail(f"{block.where}: no rule runs {shlex.join(words)!r}; mark the block")


# -- toml ----------------------------------------------------------------------------


def _rerooted(value: Any, root: Path) -> Any:
    """``value`` with every ``file:PATH`` pointing at a fixture file under ``root``."""
    if isinstance(value, dict):
        return {k: _rerooted(v, root) for k, v in value.items()}
    if isinstance(value, list):
        return [_rerooted(v, root) for v in value]
    if isinstance(value, str) and value.startswith("file:"):
        target = root / value[len("file:") :].lstrip("/~")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"docs-key-{target.name}\n", encoding="utf-8")
        return f"file:{target}"
    return value


@pytest.mark.parametrize(
    "block",
    [b for b in BLOCKS if _kind(b) == "toml"],
    ids=_ids([b for b in BLOCKS if _kind(b) == "toml"]),
)
def test_toml_block_loads(block: Block, tmp_path: Path) -> None:
    data = tomllib.loads(block.body)
    table = data.get("webhooks", data)
    if "handlers" in table:
        registry = load_registry(_rerooted(data, tmp_path), environ=DOCS_ENV)
        names = [h.name for h in registry]
        assert names == [h["name"] for h in table["handlers"]], block.where


# -- the rest ------------------------------------------------------------------------


@pytest.mark.parametrize("block", BLOCKS, ids=_ids(BLOCKS))
def test_block_is_labelled_or_marked(block: Block) -> None:
    if block.marker is not None:
        assert block.marker in ("no-run", "continue", "redis"), f"{block.where}: unknown marker"
        if block.marker == "no-run":
            assert block.reason, f"{block.where}: <!-- docs: no-run --> needs a reason"
        else:
            assert block.lang == "python", (
                f"{block.where}: <!-- docs: {block.marker} --> is for Python blocks only"
            )
    assert _kind(block) != "label" or block.lang, (
        f"{block.where}: label the block's language (```text, ```http) or mark it"
    )


def test_the_pages_have_blocks_of_every_kind() -> None:
    """The extractor finds what the pages hold (a broken pattern finds nothing)."""
    kinds = {_kind(b) for b in BLOCKS}
    assert {"python", "signature", "shell", "toml", "label"} <= kinds
    assert sum(_kind(b) == "python" for b in BLOCKS) >= 20
