"""Build a :class:`HandlerRegistry` from a TOML file or a mapping.

A configuration lists handlers in the order they are tried::

    [webhooks]
    enabled = true          # the access switch
    strict = false          # true: two matching handlers is an error

    [[webhooks.handlers]]
    name = "github"
    preset = "github"                       # any function of webhookverify.presets
    secret = "env:GITHUB_WEBHOOK_SECRET"
    user = "ci-bot"

    [[webhooks.handlers]]
    name = "tiki"
    verifier = "hmac"                       # hmac | token | standard_webhooks | public_key
    header = "Webhook-Signature"
    encoding = "base64"
    secrets = [
        { value = "env:TIKI_OLD", key_id = "old", not_after = 1767225600 },
        { value = "env:TIKI_NEW", key_id = "new" },
    ]

Every key of a handler other than ``name``, ``preset``/``verifier``,
``user``, ``enabled``, ``replay`` and ``replay_ttl`` is passed to the preset
or verifier as a keyword option. Key material is read from outside the file:
``env:NAME`` reads an environment variable and ``file:PATH`` reads a file
(either's trailing newline stripped). A secret written in the file itself (a literal,
``base64:``, ``hex:``, ``raw:``) is refused unless ``[webhooks]`` sets
``allow_inline_secrets = true``, for tests and demos; public keys may always
be written inline. ``base64:`` and ``hex:`` values are decoded to bytes;
``raw:`` takes the rest as text, unchecked; anything else (``whsec_...``
included) is passed as text, for the preset to interpret as its provider
does (Stripe uses the whole ``whsec_`` string, Standard Webhooks decodes it).

A value that looks like an environment variable rather than a key
(``$NAME``, ``${NAME}``, ``$env:NAME``, ``%NAME%``, a template placeholder,
or a bare ``UPPER_CASE_NAME`` with an underscore) is refused even where
inline secrets are allowed: TOML expands nothing, so it would silently
become the key. Write ``env:NAME``; ``raw:`` is the way to mean such text
literally.

Every mistake is a :class:`ConfigurationError` with one line naming where it
is (``handlers[2] 'shop'``) and what to change: a misspelt setting, preset,
verifier or handler name is answered with the nearest valid one, and an
unset ``env:`` variable with the ``export`` that sets it (also in the
error's ``remedy``).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ._options import AdapterOptions
from ._suggest import did_you_mean, keyword_names
from .errors import ConfigurationError
from .keysource import is_inline, resolve_key_setting
from .registry import Handler, HandlerRegistry

__all__ = [
    "MAX_CONFIG_BYTES",
    "VERIFIER_KINDS",
    "build_handler",
    "inline_secrets",
    "load_config",
    "load_handler",
    "load_registry",
]

_HANDLER_KEYS = frozenset({"name", "preset", "verifier", "user", "enabled", "replay", "replay_ttl"})
_TOP_KEYS = frozenset(
    {"enabled", "strict", "handlers", "max_body_size", "public_url", "allow_inline_secrets"}
)
_SECRET_KEYS = ("secret", "secrets", "secondary_secret", "public_key", "public_keys", "private_key")
# Public keys are not secret: writing one in the file needs no opt-in.
_PUBLIC_KEYS = frozenset({"public_key", "public_keys"})
VERIFIER_KINDS = ("hmac", "token", "standard_webhooks", "public_key")
# A configuration lists a few handlers in a few kilobytes; a file of a
# megabyte is another file given by mistake (a log, a binary), not read whole.
MAX_CONFIG_BYTES = 1 << 20


def load_config(source: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    """Read the ``[webhooks]`` table from a TOML file, or take a mapping as is.

    Raises:
        ConfigurationError: the file cannot be read or is not valid TOML.
    """
    if isinstance(source, Mapping):
        data: Mapping[str, Any] = source
        where = "configuration"
    elif not isinstance(source, str | os.PathLike):
        raise ConfigurationError(
            f"a configuration is a TOML file's path or a mapping, not {type(source).__name__}"
        )
    else:
        path = Path(source)
        where = path.name
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_CONFIG_BYTES + 1)
        except FileNotFoundError:
            raise ConfigurationError(
                f"{path}: no such configuration file",
                remedy=f"check the path; it was looked for at {path.absolute()}",
            ) from None
        except OSError as exc:
            raise ConfigurationError(f"{path}: cannot be read ({exc.strerror})") from None
        if len(raw) > MAX_CONFIG_BYTES:
            raise ConfigurationError(
                f"{path}: larger than {MAX_CONFIG_BYTES} bytes, so not a configuration; "
                "check the file name"
            )
        try:
            # TOML 1.0 §Spec: a TOML file must be a valid UTF-8 encoded Unicode document
            data = tomllib.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise ConfigurationError(
                f"{path}: not UTF-8 text (line {line}); TOML files are UTF-8: save it as UTF-8"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"{path}: not valid TOML ({exc})") from None
    table = data.get("webhooks", data)
    if not isinstance(table, Mapping):
        raise ConfigurationError(f"{where}: [webhooks] must be a table")
    if table is not data and "handlers" in data:  # [[handlers]] beside [webhooks]: never read
        raise ConfigurationError(f"{where}: write [[webhooks.handlers]], not [[handlers]]")
    return {"where": where, **table}


def load_registry(
    source: str | os.PathLike[str] | Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
) -> HandlerRegistry:
    """Build the registry a configuration describes.

    Args:
        source: a TOML file path, or a mapping of the same shape.
        environ: where ``env:NAME`` secrets are looked up (default ``os.environ``).

    Raises:
        ConfigurationError: one line naming the handler and the setting to fix.
    """
    table = load_config(source)
    where = table.pop("where")
    env = os.environ if environ is None else environ
    items = _checked_handlers(table, where)
    inline = table.get("allow_inline_secrets", False)
    handlers = []
    for label, item in _labelled(items, where):
        handlers.append(build_handler(item, environ=env, label=label, allow_inline_secrets=inline))
    try:
        return HandlerRegistry(
            handlers, enabled=table.get("enabled", True), strict=table.get("strict", False)
        )
    except ConfigurationError as exc:
        raise ConfigurationError(f"{where}: {exc}") from None


def load_handler(
    source: str | os.PathLike[str] | Mapping[str, Any],
    name: str,
    *,
    environ: Mapping[str, str] | None = None,
) -> Handler:
    """Build only the handler called ``name``, as :func:`load_registry` would.

    The other handlers are not built, so their keys are not read: signing as
    one sender (``webhookverify sign``) works without the others' variables.

    Args:
        source: a TOML file path, or a mapping of the same shape.
        name: the handler's ``name``.
        environ: where ``env:NAME`` secrets are looked up (default ``os.environ``).

    Raises:
        ConfigurationError: no handler has that name (the nearest is named),
            or that handler's settings are wrong.
    """
    table = load_config(source)
    where = table.pop("where")
    labelled = _labelled(_checked_handlers(table, where), where)
    for label, item in labelled:
        if item.get("name") == name:
            return build_handler(
                item,
                environ=os.environ if environ is None else environ,
                label=label,
                allow_inline_secrets=table.get("allow_inline_secrets", False),
            )
    names = [str(item.get("name")) for _, item in labelled]
    hint = did_you_mean(name, names) or f"; the handlers are {', '.join(names)}"
    raise ConfigurationError(f"{where}: no handler named {name!r}{hint}")


def _checked_handlers(table: Mapping[str, Any], where: str) -> list[Any]:
    """The ``handlers`` list of a ``[webhooks]`` table, once its other keys are checked."""
    unknown = sorted(str(key) for key in set(table) - _TOP_KEYS)
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown setting(s) {', '.join(unknown)} in [webhooks]"
            + did_you_mean(unknown[0], _TOP_KEYS)
        )
    items = table.get("handlers", [])
    if isinstance(items, Mapping):  # TOML's [webhooks.handlers], one table, not a list
        raise ConfigurationError(
            f"{where}: handlers is a single table ([webhooks.handlers]); write each handler "
            "as [[webhooks.handlers]], with double brackets"
        )
    if not isinstance(items, list) or not items:
        raise ConfigurationError(
            f"{where}: no handlers; add at least one [[webhooks.handlers]] table"
        )
    for flag in ("enabled", "strict", "allow_inline_secrets"):
        if flag in table and not isinstance(table[flag], bool):
            raise ConfigurationError(f"{where}: [webhooks] {flag} must be true or false")
    # the adapters' settings: checked here too, so that a registry built from
    # this file (and `webhookverify check`) never passes what the server refuses
    adapter = {key: table[key] for key in ("max_body_size", "public_url") if key in table}
    try:
        AdapterOptions.build("[webhooks]", **adapter)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{where}: {exc}") from None
    return items


def inline_secrets(source: str | os.PathLike[str] | Mapping[str, Any]) -> list[tuple[str, str]]:
    """The secrets a configuration writes in itself rather than reads.

    Public keys are not counted. The configuration is not otherwise checked:
    call :func:`load_registry` for that.

    Returns:
        ``(handler name, setting)`` pairs, such as ``("tiki", "secrets[1]")``,
        in the order of the file.

    Raises:
        ConfigurationError: the file cannot be read or is not valid TOML.
    """
    table = load_config(source)
    items = table.get("handlers", [])
    found = []
    for _, item in _labelled(items if isinstance(items, list) else [], table["where"]):
        for key in _SECRET_KEYS:
            if key in _PUBLIC_KEYS or key not in item:
                continue
            many = isinstance(item[key], list)
            for index, value in enumerate(item[key] if many else [item[key]]):
                if is_inline(value):
                    found.append((str(item.get("name", "?")), f"{key}[{index}]" if many else key))
    return found


def _labelled(items: list[Any], where: str) -> list[tuple[str, Mapping[str, Any]]]:
    out = []
    for position, item in enumerate(items):
        label = f"{where}: handlers[{position}]"
        if not isinstance(item, Mapping):
            raise ConfigurationError(f"{label} must be a table")
        if isinstance(item.get("name"), str):
            label += f" {item['name']!r}"
        out.append((label, item))
    return out


def build_handler(
    item: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    label: str = "handler",
    allow_inline_secrets: bool = False,
) -> Handler:
    """Build one :class:`Handler` from its table (see the module docstring).

    Args:
        item: the handler's table.
        environ: where ``env:NAME`` secrets are looked up (default ``os.environ``).
        label: how errors name the handler.
        allow_inline_secrets: accept secrets written in ``item`` itself.

    Raises:
        ConfigurationError: one line naming the handler and the setting to fix.
    """
    env = os.environ if environ is None else environ
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f'{label}: needs a name = "..."')
    if "allow_inline_secrets" in item:
        raise ConfigurationError(
            f"{label}: allow_inline_secrets belongs in [webhooks], not in a handler"
        )
    preset, kind = item.get("preset"), item.get("verifier")
    if (preset is None) == (kind is None):
        raise ConfigurationError(
            f'{label}: set exactly one of preset = "..." or verifier = "{"|".join(VERIFIER_KINDS)}"'
        )
    options = {k: v for k, v in item.items() if k not in _HANDLER_KEYS}
    try:
        # the file's own mistakes first, then what it reads from outside
        factory = _factory(preset, kind)
        _check_options(options, factory)
        for key in _SECRET_KEYS:
            if key in options:
                options[key] = resolve_key_setting(
                    options[key],
                    setting=key,
                    environ=env,
                    allow_inline=allow_inline_secrets or key in _PUBLIC_KEYS,
                )
        if kind == "hmac" and isinstance(options.get("header_format"), Mapping):
            from .verifiers import KeyValueHeader

            layout = options["header_format"]
            fields = keyword_names(KeyValueHeader) or frozenset()
            unknown = sorted(str(key) for key in set(layout) - fields)
            if unknown:  # else the TypeError below would not name header_format
                raise ConfigurationError(
                    f"header_format takes {', '.join(sorted(fields))}; not {', '.join(unknown)}"
                    + did_you_mean(unknown[0], fields)
                )
            options["header_format"] = KeyValueHeader(**layout)
        verifier = factory(**options)
        return Handler(
            name,
            verifier,
            item.get("user"),
            enabled=item.get("enabled", True),
            replay=item.get("replay"),
            replay_ttl=item.get("replay_ttl"),
        )
    except ConfigurationError as exc:
        raise ConfigurationError(f"{label}: {exc}", remedy=exc.remedy) from None
    except TypeError as exc:
        # a setting the preset or verifier cannot do without ("f() missing 1
        # required keyword-only argument: 'url'"), named as the file writes it
        message = str(exc).split(") ", 1)[-1] if ") " in str(exc) else str(exc)
        missing = re.findall(r"'(\w+)'", message) if message.startswith("missing ") else []
        if missing:
            message = f"needs {' and '.join(f'{name} = ...' for name in missing)}"
        raise ConfigurationError(f"{label}: {message}") from None


def _factory(preset: object, kind: object) -> Callable[..., Any]:
    if preset is not None:
        from . import presets

        if not isinstance(preset, str) or preset not in presets.PRESETS:
            hint = did_you_mean(preset, presets.PRESETS) if isinstance(preset, str) else ""
            known = ", ".join(presets.PRESETS)
            raise ConfigurationError(
                f"unknown preset {preset!r}{hint or f'; known presets: {known}'}"
            )
        factory: Callable[..., Any] = getattr(presets, preset)
        return factory
    if kind == "hmac":
        from .verifiers import HmacVerifier

        return HmacVerifier
    if kind == "token":
        from .verifiers import TokenVerifier

        return TokenVerifier
    if kind == "standard_webhooks":
        from .verifiers.standard import StandardWebhooksVerifier

        return StandardWebhooksVerifier
    if kind == "public_key":
        from .verifiers.asymmetric import PublicKeyVerifier

        return PublicKeyVerifier
    hint = did_you_mean(kind, VERIFIER_KINDS) if isinstance(kind, str) else ""
    kinds = ", ".join(VERIFIER_KINDS)
    raise ConfigurationError(
        f"unknown verifier {kind!r}{hint or f'; use one of {kinds} or a preset'}"
    )


def _check_options(options: Mapping[str, Any], factory: Callable[..., Any]) -> None:
    """Refuse a setting the preset or verifier does not take, naming the nearest one."""
    accepted = keyword_names(factory)
    if accepted is None:
        return  # it takes any keyword: let the factory judge
    unknown = sorted(str(key) for key in set(options) - accepted)
    if unknown:
        valid = (accepted - {"owner", "scheme"}) | _HANDLER_KEYS
        hint = (
            did_you_mean(unknown[0], valid) or f"; the settings here are {', '.join(sorted(valid))}"
        )
        raise ConfigurationError(f"unknown setting {unknown[0]!r}{hint}")
