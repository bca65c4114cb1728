"""A replay store in Redis, for receivers that run in more than one process.

:class:`~webhookverify.MemoryReplayStore` protects one process. As soon as
deliveries can reach several processes (gunicorn or uvicorn workers, several
containers behind a load balancer, a web process and a job worker), they must
share one memory of what was processed, or a replay sent to another worker is
dispatched again. :class:`RedisReplayStore` is that shared memory: every
method is one atomic round trip to Redis, from sync code or from asyncio.

How a key is kept (``prefix`` + the delivery key, one Redis string):

- in flight: ``f|<token>``, the reservation's random token, expiring after
  the lease (``SET NX PX``);
- done: ``d``, expiring ``ttl`` after the commit.

Reserve, commit and release are each one short Lua script (``EVAL``), so
each reads and writes the key atomically, across processes and machines, in
one round trip. Each is idempotent, so a call retried after a dropped
connection cannot reserve twice.

``redis`` is imported when a store is built, never by importing webhookverify.
"""

from __future__ import annotations

import asyncio  # loaded by redis anyway
import importlib
import secrets
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, parse_qs, urlsplit, urlunsplit

from .errors import ConfigurationError, ReplayStoreUnavailable
from .replay import MAX_EXPIRY, Reservation, ReserveResult, check_seconds, warn_lost_lease

if TYPE_CHECKING:
    import redis
    import redis.asyncio

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_RETRIES",
    "DEFAULT_SOCKET_TIMEOUT",
    "MAX_EXPIRY",
    "RedisReplayStore",
]

# A healthy Redis answers in well under a millisecond; a delivery waits on it
# twice (reserve, then commit) and senders give up after about ten seconds
# (GitHub: 10 s). One second is far beyond normal and still leaves time to
# answer 503 before the sender times out.
DEFAULT_SOCKET_TIMEOUT = 1.0
DEFAULT_CONNECT_TIMEOUT = 1.0
# One retry rides over a pooled connection that went away (a Redis restart, an
# idle connection closed by a proxy). Every script is idempotent, so retrying
# cannot reserve a key twice; more retries only delay the 503.
DEFAULT_RETRIES = 1
# Pause before a retry: long enough to reconnect, short against a request.
_RETRY_BACKOFF = 0.01


# KEYS[1] the key; ARGV[1] the in-flight value ('f|' + token); ARGV[2] the lease (ms).
# 0 reserved (also when a retried call finds its own value), 1 in flight, 2 done.
_RESERVE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then return 0 elseif held == 'd' then return 2 else return 1 end
"""
# KEYS[1] the key; ARGV[1] the in-flight value; ARGV[2] the ttl (ms).
# 1 committed (also a key whose lease ran out), 0 already done, -1 another's reservation.
_COMMIT = """
local held = redis.call('GET', KEYS[1])
if held == 'd' then return 0 end
if held and held ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[1], 'd', 'PX', ARGV[2])
return 1
"""
# KEYS[1] the key; ARGV[1] the in-flight value.
# 1 released, 0 nothing of ours in flight (a done key is never deleted), -1 another's.
_RELEASE = """
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then return redis.call('DEL', KEYS[1]) end
if held and held ~= 'd' then return -1 else return 0 end
"""


def _milliseconds(seconds: float, name: str) -> int:
    return max(1, round(check_seconds(seconds, f"RedisReplayStore.reserve({name}=...)") * 1000))


def _redacted(parts: SplitResult) -> str:
    """The URL of ``parts`` without credentials or options other than ``db``."""
    _, at, host = parts.netloc.rpartition("@")  # as urlsplit finds the host
    db = parse_qs(parts.query).get("db")
    query = f"db={db[0]}" if db and db[0].isdigit() else ""
    return urlunsplit((parts.scheme, "***@" + host if at else host, parts.path, query, ""))


def _is_async(client: object) -> bool:
    return type(client).__module__.startswith("redis.asyncio")


class RedisReplayStore:
    """A replay store shared through Redis by every process that uses the same server.

    One object serves sync code (:meth:`reserve`, :meth:`commit`,
    :meth:`release`, over ``redis.Redis``) and asyncio (:meth:`areserve`,
    :meth:`acommit`, :meth:`arelease`, over ``redis.asyncio``); from a URL it
    builds only the client that is used, when it is first used, and one async
    client per event loop. Build one store per process (at import time or app
    start) and share it between threads and tasks.

    Semantics (the :class:`~webhookverify.replay.ReplayStore` protocol):
    ``reserve`` returns a :class:`~webhookverify.replay.Reservation` to
    exactly one caller across every process, and holds the key in flight for
    ``lease`` seconds; ``commit`` turns the reserved key into done for the
    reservation's ``ttl`` (also a key whose lease already ended, since the
    delivery was processed); ``release`` deletes it, never a done key. The
    reservation's random token is the value kept in Redis: when its lease
    ended and another worker reserved the key again, ``commit`` and
    ``release`` leave that worker's reservation alone and log a warning
    (raise the lease above the longest a delivery takes). A reservation may
    be settled from any thread, task or process that has it.

    Args:
        url: ``redis://[[user]:password@]host[:port][/db]``, ``rediss://``
            (TLS) or ``unix:///path/to/socket``. Messages show it without
            credentials and without query options other than ``db``.
        client: a ready ``redis.Redis`` (or cluster) client for the sync
            methods, used as configured; its owner closes it.
        async_client: a ready ``redis.asyncio`` client for the async methods.
        prefix: put before every key, to share a Redis database with other
            applications (the keys already start with ``webhookverify:``).
        socket_timeout: seconds to wait for an answer (clients built from
            ``url``).
        connect_timeout: seconds to wait for a connection (clients built from
            ``url``).
        retries: how many times a call is retried after a connection error or
            a timeout (clients built from ``url``).

    Raises:
        ConfigurationError: redis is not installed, or a setting is wrong:
            no ``url`` nor client, a URL that is not ``redis://``,
            ``rediss://`` or ``unix://``, an async client passed as
            ``client=`` (or the reverse), a timeout that is not a positive
            number, ``retries`` that is not a non-negative int.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: redis.Redis | None = None,
        async_client: redis.asyncio.Redis | None = None,
        prefix: str = "",
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
    ) -> None:
        try:
            import redis
        except ImportError:
            raise ConfigurationError(
                "RedisReplayStore needs the redis package: pip install 'webhookverify[redis]'"
            ) from None
        self._redis: Any = redis
        if url is None and client is None and async_client is None:
            raise ConfigurationError(
                "RedisReplayStore needs url= or a client (client= for sync code, "
                "async_client= for asyncio)"
            )
        self._setting = "url=" if url is not None else "client=" if client else "async_client="
        self._where = f"the client given as {self._setting}"
        if url is not None:
            try:
                # It refuses another scheme, a bad port or option, and what is not a str.
                self._redis.connection.parse_url(url)
                parts = urlsplit(url)
                # redis reads no port in a unix:// URL, and there the text after
                # "host:" may be a password whose "@" is missing: not a number.
                parts.port  # noqa: B018 - raises the ValueError
                # A "/", "?" or "#" in the user or password ends the authority
                # early (RFC 3986 §3.2): its "@" lands after the host, and what
                # comes before it would be shown as the host or the path.
                at_after_host = "@" in parts.path + parts.query + parts.fragment
                self._where = _redacted(parts)
            except (AttributeError, TypeError, ValueError):
                # The parser's message may quote the URL, password included.
                raise ConfigurationError(
                    "RedisReplayStore(url=...) must be a valid redis://, rediss:// or unix:// "
                    "URL (check its scheme, host, port and query options)"
                ) from None
            if at_after_host:
                raise ConfigurationError(
                    "RedisReplayStore(url=...) has an '@' after the host; percent-encode "
                    "'/', '?', '#' and '@' in the user or password, and '@' in a socket "
                    "path (%2F, %3F, %23, %40)"
                )
        for setting, given, wrong_is_async, instead in (
            ("client", client, True, "a redis.asyncio client; pass it as async_client="),
            ("async_client", async_client, False, "a sync client; pass it as client="),
        ):
            if given is not None and _is_async(given) is wrong_is_async:
                raise ConfigurationError(f"RedisReplayStore({setting}=...) got {instead}")
        if not isinstance(prefix, str):
            raise ConfigurationError("RedisReplayStore(prefix=...) must be a str")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ConfigurationError("RedisReplayStore(retries=...) must be an int >= 0")
        timeout = check_seconds(socket_timeout, "RedisReplayStore(socket_timeout=...)")
        connect = check_seconds(connect_timeout, "RedisReplayStore(connect_timeout=...)")
        self.prefix = prefix
        self._options = {"socket_timeout": timeout, "socket_connect_timeout": connect}
        self._retries = retries
        self._backoff = redis.backoff.ExponentialBackoff(
            cap=_RETRY_BACKOFF * 10, base=_RETRY_BACKOFF
        )
        self._url = url
        self._given = client
        self._given_async = async_client
        # the clients built from url: None -> the sync one, an event loop -> its async one
        self._built: dict[Any, Any] = {}
        self._lock = threading.Lock()
        # OSError covers the socket errors (and TimeoutError) a client lets through.
        self._failures = (redis.RedisError, OSError)

    def __repr__(self) -> str:
        return f"RedisReplayStore({self._where!r}, prefix={self.prefix!r})"

    # -- the sync API ------------------------------------------------------------------

    def reserve(self, key: str, ttl: float, lease: float) -> Reservation | ReserveResult:
        """Reserve ``key`` for the caller unless it is in flight or done.

        Args:
            key: the delivery key (the store puts ``prefix`` before it).
            ttl: seconds to remember the key once committed.
            lease: seconds the reservation lasts unless committed or released.
                Both are rounded to milliseconds, at least one.

        Returns:
            the :class:`Reservation` (the key is now in flight for the
            caller), or ``IN_FLIGHT`` or ``DONE``.

        Raises:
            ReplayStoreUnavailable: Redis could not be reached or failed.
            ConfigurationError: ``ttl`` or ``lease`` is negative, not a
                number, or above :data:`MAX_EXPIRY`.
        """
        reservation, lease_ms = self._new(key, ttl), _milliseconds(lease, "lease")
        return self._reserved(reservation, self._run(_RESERVE, reservation, lease_ms))

    def commit(self, reservation: Reservation) -> None:
        """Mark the reservation's key done, for its ``ttl``.

        A done key stays done (its expiry unchanged); a key whose lease ended
        is marked done too; another worker's reservation is left alone.

        Raises:
            ReplayStoreUnavailable: Redis could not be reached or failed.
        """
        ttl_ms = _milliseconds(reservation.ttl, "ttl")
        _settled(reservation, self._run(_COMMIT, reservation, ttl_ms), "commit")

    def release(self, reservation: Reservation) -> None:
        """Forget the reservation, so the sender's retry is processed.

        A done key and another worker's reservation are left alone.

        Raises:
            ReplayStoreUnavailable: Redis could not be reached or failed.
        """
        _settled(reservation, self._run(_RELEASE, reservation), "release")

    def close(self) -> None:
        """Close the connections the store opened for the sync methods.

        Clients passed in are left to their owner. A store used again after
        ``close`` reconnects. Async clients are closed by :meth:`aclose`.
        """
        with self._lock:
            client = self._built.pop(None, None)
        if client is not None:
            client.close()

    def __enter__(self) -> RedisReplayStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the async API -----------------------------------------------------------------

    async def areserve(self, key: str, ttl: float, lease: float) -> Reservation | ReserveResult:
        """:meth:`reserve` for asyncio: same arguments, answers and errors."""
        reservation, lease_ms = self._new(key, ttl), _milliseconds(lease, "lease")
        return self._reserved(reservation, await self._arun(_RESERVE, reservation, lease_ms))

    async def acommit(self, reservation: Reservation) -> None:
        """:meth:`commit` for asyncio."""
        ttl_ms = _milliseconds(reservation.ttl, "ttl")
        _settled(reservation, await self._arun(_COMMIT, reservation, ttl_ms), "commit")

    async def arelease(self, reservation: Reservation) -> None:
        """:meth:`release` for asyncio."""
        _settled(reservation, await self._arun(_RELEASE, reservation), "release")

    async def aclose(self) -> None:
        """Close the connections the store opened, for this event loop and the sync methods."""
        with self._lock:
            client = self._built.pop(asyncio.get_running_loop(), None)
        if client is not None:
            # redis 5.0.0 named it close(); 5.0.1 added aclose()
            await (getattr(client, "aclose", None) or client.close)()
        self.close()

    async def __aenter__(self) -> RedisReplayStore:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- the machinery -----------------------------------------------------------------

    def _client(self, loop: Any) -> Any:
        """The client for the sync methods (``loop`` None) or for the running ``loop``."""
        given = self._given if loop is None else self._given_async
        if given is not None:
            return given
        if self._url is None:
            need, kind = ("client=", "sync") if loop is None else ("async_client=", "async")
            raise ConfigurationError(
                f"RedisReplayStore has no {need}; pass {need} or url= to use the {kind} methods"
            )
        with self._lock:
            client = self._built.get(loop)
            if client is None:
                # Connections belong to the loop that opened them: one client per
                # loop, forgetting those of loops that have been closed.
                for old in [old for old in self._built if old and old.is_closed()]:
                    del self._built[old]
                module = self._redis if loop is None else importlib.import_module("redis.asyncio")
                retry = module.retry.Retry(self._backoff, self._retries)
                client = module.Redis.from_url(self._url, retry=retry, **self._options)
                self._built[loop] = client
            return client

    def _run(self, script: str, reservation: Reservation, *args: int) -> Any:
        key, value = self.prefix + reservation.key, "f|" + reservation.token
        try:
            return self._client(None).eval(script, 1, key, value, *args)
        except self._failures as exc:
            raise self._unavailable(exc) from exc

    async def _arun(self, script: str, reservation: Reservation, *args: int) -> Any:
        key, value = self.prefix + reservation.key, "f|" + reservation.token
        try:
            return await self._client(asyncio.get_running_loop()).eval(script, 1, key, value, *args)
        except self._failures as exc:
            raise self._unavailable(exc) from exc

    def _new(self, key: str, ttl: float) -> Reservation:
        ttl = check_seconds(ttl, "RedisReplayStore.reserve(ttl=...)")
        return Reservation(key, secrets.token_hex(8), ttl)

    def _unavailable(self, exc: BaseException) -> ReplayStoreUnavailable:
        cause = type(exc).__name__
        code = str(exc).split(" ", 1)[0] if isinstance(exc, self._redis.ResponseError) else ""
        if code.isalpha() and code.isupper():  # a Redis error code: WRONGTYPE, NOPERM, READONLY
            cause = f"{cause} {code}"
        return self._error(f"failed ({cause})")

    def _reserved(self, reservation: Reservation, code: Any) -> Reservation | ReserveResult:
        if isinstance(code, int) and code in (0, 1, 2):
            return (reservation, ReserveResult.IN_FLIGHT, ReserveResult.DONE)[code]
        raise self._error("gave an unexpected answer (is it a Redis server?)")

    def _error(self, what: str) -> ReplayStoreUnavailable:
        return ReplayStoreUnavailable(
            f"the Redis replay store at {self._where} {what}; "
            f"check RedisReplayStore({self._setting}...) and the Redis server"
        )


def _settled(reservation: Reservation, code: Any, action: str) -> None:
    if code == -1:
        warn_lost_lease(reservation.key, action)
