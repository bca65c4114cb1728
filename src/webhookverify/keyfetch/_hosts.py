"""Where a key may be fetched from: exact host rules, ``https`` only.

A preset declares the hosts its provider publishes keys on; a URL that names
any other host (a look-alike such as ``sns.us-east-1.amazonaws.com.evil.example``,
an IP address, a user-info trick such as ``https://sns.x.amazonaws.com@evil``)
is refused before anything is fetched. A rule is a host name compared whole
(case-insensitive), where ``*`` stands for exactly one DNS label of letters,
digits and hyphens, never a dot: ``sns.*.amazonaws.com`` matches
``sns.us-east-1.amazonaws.com`` and nothing longer or shorter.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from ..errors import ConfigurationError
from ._errors import KeyUrlRefused

__all__ = ["MAX_URL_LENGTH", "HostRules"]

# A key URL is a short path on a provider's host (SNS's are ~90 characters,
# PayPal's ~100); a longer one is not a key URL.
MAX_URL_LENGTH: Final = 2048
# RFC 1035 §2.3.1: a label is letters, digits and hyphens, 63 at most.
_LABEL: Final = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_RULE_TEXT: Final = re.compile(r"(?:\*|[a-z0-9-]+)(?:\.(?:\*|[a-z0-9-]+))+")
# RFC 3986 §5.2.4: a "." or ".." segment (or its percent-encoded spelling,
# which servers may decode) is removed before the request is sent, so the
# path fetched would not be the path the rule judged.
_DOT_SEGMENT: Final = re.compile(r"/(?:\.|%2e){1,2}(?=/|\?|#|$)", re.I)


@dataclass(frozen=True, slots=True, init=False)
class HostRules:
    """The hosts a key source may fetch from, and the paths it may ask for.

    Args:
        hosts: host rules (``api.paypal.com``, ``sns.*.amazonaws.com``); ``*``
            is one DNS label. At least one.
        path: a regular expression the URL's path must match in full
            (default: any path).
        owner: what configuration errors name (``presets.aws_sns``).
        label: a regular expression every ``*`` label must match in full
            (default: any DNS label); a provider whose wildcard stands for a
            region says so, so that a name a customer can claim under the
            same parent domain (an S3 bucket, say) is not one of its hosts.

    Raises:
        ConfigurationError: no host, or a rule that is not a host name.
    """

    hosts: tuple[str, ...]
    path: re.Pattern[str] | None
    _host: re.Pattern[str]
    _plain: re.Pattern[str]

    def __init__(
        self,
        hosts: Iterable[str],
        *,
        path: str | None = None,
        owner: str = "HostRules",
        label: str | None = None,
    ) -> None:
        rules = tuple(hosts) if not isinstance(hosts, str) else (hosts,)
        if not rules:
            raise ConfigurationError(f"{owner} needs at least one host to fetch keys from")
        patterns = []
        for rule in rules:
            if not isinstance(rule, str) or not _RULE_TEXT.fullmatch(rule.lower()):
                raise ConfigurationError(
                    f"{owner}: host rule {rule!r} is not a host name (labels of letters, digits "
                    "and hyphens; '*' for one whole label)"
                )
            wildcard = _LABEL if label is None else f"(?:{label})"
            labels = [wildcard if part == "*" else re.escape(part) for part in rule.split(".")]
            patterns.append(r"\.".join(labels))
        object.__setattr__(self, "hosts", tuple(rule.lower() for rule in rules))
        object.__setattr__(self, "path", None if path is None else re.compile(path))
        object.__setattr__(self, "_host", re.compile("|".join(patterns), re.ASCII))
        # The common case in one match: https, a lower-case allowed host, no
        # port, user-info, query or fragment, an allowed path. Whatever it
        # does not match is judged by the full parse below, which accepts a
        # superset of it (so this only ever saves time).
        tail = path if path is not None else r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*"
        plain = rf"https://(?:{'|'.join(patterns)})(?:{tail})"
        object.__setattr__(self, "_plain", re.compile(plain, re.ASCII))

    def allows_host(self, host: str) -> bool:
        """True when ``host`` (already lower-cased) matches a rule whole."""
        return self._host.fullmatch(host) is not None

    def check_host(self, url: str, what: str = "URL") -> str:
        """:meth:`check` without the path rule: ``url`` is on the pinned hosts
        (for a sender's other URLs, such as SNS's ``SubscribeURL``)."""
        return self.check(url, what, any_path=True)

    def check(self, url: str, what: str = "key URL", *, any_path: bool = False) -> str:
        """Return ``url`` if a key may be fetched from it, else raise.

        Rules: ``https`` only; no user-info; the default port; a host that
        matches a rule whole; no ``.``/``..`` path segment; the path, if a
        pattern is set, matching it whole.

        Raises:
            KeyUrlRefused: any rule broken (a request, not the configuration,
                named the URL: 401, never fetched).
        """
        if (
            not any_path
            and isinstance(url, str)
            and len(url) <= MAX_URL_LENGTH
            and "?" not in url
            and "#" not in url
            and self._plain.fullmatch(url)
            and not _DOT_SEGMENT.search(url)
        ):
            return url
        if not isinstance(url, str) or len(url) > MAX_URL_LENGTH or not url.isascii():
            raise KeyUrlRefused(f"the {what} is not a URL this sender publishes keys at")
        try:
            parts = urllib.parse.urlsplit(url)
            port = parts.port
        except ValueError:
            raise KeyUrlRefused(f"the {what} is not a valid URL") from None
        if parts.scheme != "https":
            raise KeyUrlRefused(f"the {what} is not an https:// URL; keys are fetched over https")
        host = parts.hostname or ""
        if "@" in parts.netloc or port not in (None, 443) or not self.allows_host(host):
            raise KeyUrlRefused(
                f"the {what} names a host this sender does not publish keys on "
                f"(allowed: {', '.join(self.hosts)})"
            )
        if _DOT_SEGMENT.search(parts.path):
            raise KeyUrlRefused(f"the {what} has a '.' or '..' path segment")
        if not any_path and self.path is not None and not self.path.fullmatch(parts.path):
            raise KeyUrlRefused(f"the {what} is not a path this sender publishes keys at")
        return url
