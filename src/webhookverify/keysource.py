"""Where a configured key comes from: the environment, a file, or the file itself.

A key setting of a configuration (``secret``, ``secrets``, ``public_key``, ...)
is read by :func:`resolve_key_setting`:

- ``env:NAME``: the environment variable ``NAME``, trailing newline stripped
  (a value set from a file keeps the file's); an error if unset or empty;
- ``file:PATH``: the file's text, trailing newline stripped;
- anything else is *inline*, key material written in the configuration:
  ``base64:``/``hex:`` decoded to bytes, ``raw:`` the rest as text, unchecked,
  any other text as is. Inline secrets need the caller's consent
  (``allow_inline=True``): a key in a file that is copied, committed and
  pasted into tickets is not a secret for long.

A value that looks like an environment variable (:func:`variable_name`) is
refused unless written ``raw:...``: TOML expands nothing, so
``secret = "$GITHUB_WEBHOOK_SECRET"`` would silently make those 22 characters
the key, and every delivery would be refused (or, worse, the key guessable).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._suggest import did_you_mean
from .errors import ConfigurationError
from .keys import Secret, parse_secret

__all__ = ["MAX_KEY_FILE_BYTES", "is_inline", "resolve_key_setting", "variable_name"]

# References that a shell, PowerShell, cmd.exe or a template engine would have
# expanded and a TOML reader never does: $NAME, ${NAME} and ${{ ... }},
# $env:NAME, %NAME%, {{ ... }}. No generated key has these shapes.
_REFERENCE = re.compile(
    r"\$(?:env:)?[A-Za-z_][A-Za-z0-9_]*|\$\{.*\}|%[A-Za-z_][A-Za-z0-9_()]*%|\{\{.*\}\}", re.S
)
# A variable's conventional name: upper-case letters, digits and underscores,
# with an underscore after the first letter (GITHUB_WEBHOOK_SECRET). Generated
# keys are mixed case, hex or base32 (which has no underscore), so in practice
# this is a name written where its value was meant, not a key.
_UPPER_NAME = re.compile(r"_*[A-Z][A-Z0-9]*_[A-Z0-9_]*")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WINDOW_KEYS = ("key_id", "not_before", "not_after")
# A secret is a line, a PEM key or certificate chain a few kilobytes; a file
# of 64 KiB or more is another file named by mistake (or /dev/zero).
MAX_KEY_FILE_BYTES = 64 * 1024


def variable_name(text: str) -> str | None:
    """The environment variable ``text`` names or refers to, if it looks like one.

    ``$NAME``, ``${NAME}``, ``$env:NAME`` (PowerShell), ``%NAME%`` (cmd.exe)
    and template placeholders (``${{ ... }}``, ``{{ ... }}``) are references
    that a configuration file does not expand; ``GITHUB_WEBHOOK_SECRET``
    (upper case, an underscore after the first letter) is a variable's name.

    Returns:
        The variable's name (in a placeholder, its last upper-case name if
        any), or ``None`` when ``text`` does not look like a variable.
    """
    if _UPPER_NAME.fullmatch(text):
        return text
    if _REFERENCE.fullmatch(text):
        names: list[str] = _IDENTIFIER.findall(text.removeprefix("$env:"))
        upper = [n for n in names if n.isupper()]
        return (upper or names or ["NAME"])[-1]
    return None


def is_inline(value: object) -> bool:
    """True when a key setting's value (or ``{ value = ... }`` table) is written in place."""
    if isinstance(value, Mapping):
        value = value.get("value")
    return isinstance(value, str) and not value.startswith(("env:", "file:"))


def resolve_key_setting(
    value: Any, *, setting: str, environ: Mapping[str, str], allow_inline: bool
) -> Any:
    """The key material one setting stands for, ready for a preset or verifier.

    Args:
        value: the setting's value: a string, a ``{ value, key_id, not_before,
            not_after }`` table, or a list of either.
        setting: its name, for errors (``secrets``; items become ``secrets[1]``).
        environ: where ``env:NAME`` is looked up.
        allow_inline: accept key material written in ``value`` itself.

    Returns:
        For a list, a list; for a table, a :class:`Secret`; for a string, a
        :class:`Secret` when ``base64:``/``hex:`` decoded it, else the text
        (for the preset to interpret as its provider does, ``whsec_...`` too).

    Raises:
        ConfigurationError: one line naming ``setting`` and what to write instead.
    """
    if isinstance(value, list):
        return [
            _resolve_one(item, f"{setting}[{index}]", environ, allow_inline)
            for index, item in enumerate(value)
        ]
    return _resolve_one(value, setting, environ, allow_inline)


def _resolve_one(
    value: Any, setting: str, environ: Mapping[str, str], allow_inline: bool
) -> Secret | str:
    options: dict[str, Any] = {}
    table = isinstance(value, Mapping)
    if table:
        extra = set(value) - {"value", *_WINDOW_KEYS}
        if extra or "value" not in value:
            named = sorted(str(key) for key in extra)
            raise ConfigurationError(
                f"{setting} takes value, key_id, not_before, not_after"
                + (f"; not {', '.join(named)}" if named else "; value is missing")
                + (did_you_mean(named[0], ("value", *_WINDOW_KEYS)) if named else "")
            )
        options = {k: value[k] for k in _WINDOW_KEYS if k in value}
        value = value["value"]
    text, literal = _resolve_text(value, setting, environ, allow_inline)
    if not literal and text.startswith(("base64:", "hex:")):
        return parse_secret(text, **options)
    # as a verifier refuses a bare secret (a PEM public key may end with its newline)
    if table and not literal and text != text.strip() and not setting.startswith("public_key"):
        raise ConfigurationError(
            f"{setting} starts or ends with a space or a line break, which no sender's key "
            "does: remove it where the value is set"
        )
    return Secret(text, **options) if table else text


def _resolve_text(
    value: Any, setting: str, environ: Mapping[str, str], allow_inline: bool
) -> tuple[str, bool]:
    """The text a setting stands for, and whether it was ``raw:`` (not to be decoded)."""
    if not isinstance(value, str):
        raise ConfigurationError(f"{setting} must be a string (or env:NAME / file:PATH)")
    if value.startswith("env:"):
        return _from_environ(value[len("env:") :], setting, environ), False
    if value.startswith("file:"):
        return _from_file(value[len("file:") :], setting), False
    literal = value.startswith("raw:")
    text = value.removeprefix("raw:")
    if not text:
        raise ConfigurationError(f"{setting} is empty; copy the secret from the sender's settings")
    name = None if literal else variable_name(text.removeprefix("base64:").removeprefix("hex:"))
    if name is not None:
        raise ConfigurationError(
            f"{setting} looks like an environment variable, not a key, and a configuration "
            f'file expands nothing: write {setting} = "env:{name}" '
            f'(or "raw:..." if that text really is the key)'
        )
    if not allow_inline:
        raise ConfigurationError(
            f"{setting} is written in the configuration itself: read it with "
            f'{setting} = "env:NAME" or "file:PATH", or set allow_inline_secrets = true '
            "in [webhooks] (tests and demos only)"
        )
    return text, literal


def _from_environ(name: str, setting: str, environ: Mapping[str, str]) -> str:
    if not name or name[0] in "${%":
        raise ConfigurationError(
            f'{setting} = "env:..." takes the bare variable name: '
            f'write {setting} = "env:{variable_name(name) or "NAME"}"'
        )
    # a variable set from a file (a mounted secret, $(cat key) in some shells)
    # keeps the file's newline, which no sender's key ends with; file: drops it too
    found = environ.get(name, "").rstrip("\r\n")
    if not found:
        how = f"export {name}='...' (the value from the sender's webhook settings)"
        raise ConfigurationError(
            f"{setting} reads the environment variable {name}, which is not set or empty: "
            f"set it where the receiver starts, {how}",
            remedy=f"{how}, then run this again",
        )
    return found


def _from_file(spec: str, setting: str) -> str:
    path = Path(spec).expanduser()
    try:
        with path.open("rb") as handle:  # bounded: file:/dev/zero must not hang the loader
            raw = handle.read(MAX_KEY_FILE_BYTES + 1)
        text = raw.decode("utf-8").rstrip("\r\n")
    except OSError as exc:
        hint = "; variables ($NAME) are not expanded in a file: path" if "$" in spec else ""
        raise ConfigurationError(
            f"{setting} reads {path}, which cannot be read ({exc.strerror}){hint}"
        ) from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"{setting} reads {path}, which is not UTF-8 text") from None
    if len(raw) > MAX_KEY_FILE_BYTES:
        raise ConfigurationError(
            f"{setting} reads {path}, which is larger than {MAX_KEY_FILE_BYTES} bytes: "
            "not a key file; check the path"
        )
    if not text:
        raise ConfigurationError(f"{setting} reads {path}, which is empty")
    return text
