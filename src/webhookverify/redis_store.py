"""A replay store in Redis, for receivers that run in more than one process.

:class:`~webhookverify.MemoryReplayStore` protects one process. As soon as
deliveries can reach several processes (gunicorn or uvicorn workers, several
containers behind a load balancer, a web process and a job worker), they must
share one memory of what was processed, or a replay sent to another worker is
dispatched again. :class:`RedisReplayStore` is that shared memory: every
method is one atomic round trip to Redis, from sync code or from asyncio.

How a key is kept (``prefix`` + the delivery key, one Redis string):

- in flight: ``f|<ttl in ms>|<token>``, expiring after the lease (``SET NX PX``);
- done: ``d``, expiring ``ttl`` after the commit.

Reserve, commit and release are Lua scripts (``EVALSHA``, falling back to
``EVAL`` when the server lost its script cache), so each one reads and writes
the key atomically, across processes and machines. Each is idempotent, so a
call retried after a dropped connection cannot reserve twice.

``redis`` is imported when a store is built, never by importing webhookverify.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from .errors import ConfigurationError, ReplayStoreUnavailable
from .replay import (
    MAX_EXPIRY,
    NO_TIMESTAMP_TTL,
    ReserveResult,
    check_expiry,
    held_by_me,
    hold,
    let_go,
    new_store_id,
    warn_lost_lease,
)

if TYPE_CHECKING:
    from types import TracebackType

    import redis
    import redis.asyncio

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_RETRIES",
    "DEFAULT_SOCKET_TIMEOUT",
    "MAX_EXPIRY",
    "RedisReplayStore",
]

logger = logging.getLogger("webhookverify")

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

_SCHEMES = ("redis", "rediss", "unix")


class _Script:
    __slots__ = ("sha", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()


# KEYS[1] key; ARGV[1] the in-flight value; ARGV[2] lease (ms).
# 0 new (or our own reservation, seen again by a retried call), 1 in flight, 2 done.
_RESERVE = _Script("""
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then return 0 end
if held == 'd' then return 2 end
return 1
""")
# KEYS[1] key; ARGV[1] token ('' = whichever reservation); ARGV[2] ttl (ms) if
# the key is gone. 1 committed, 0 already done, -1 another worker's reservation.
_COMMIT = _Script("""
local held = redis.call('GET', KEYS[1])
if not held then
  redis.call('SET', KEYS[1], 'd', 'PX', ARGV[2])
  return 1
end
local ttl, token = string.match(held, '^f|(%d+)|(.+)$')
if not ttl then return 0 end
if ARGV[1] ~= '' and token ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[1], 'd', 'PX', ttl)
return 1
""")
# KEYS[1] key; ARGV[1] token ('' = whichever reservation).
# 1 released, 0 nothing in flight (a done key is never deleted), -1 another's.
_RELEASE = _Script("""
local held = redis.call('GET', KEYS[1])
if not held then return 0 end
local token = string.match(held, '^f|%d+|(.+)$')
if not token then return 0 end
if ARGV[1] ~= '' and token ~= ARGV[1] then return -1 end
redis.call('DEL', KEYS[1])
return 1
""")
_RESERVED = {0: ReserveResult.NEW, 1: ReserveResult.IN_FLIGHT, 2: ReserveResult.DONE}


def _milliseconds(seconds: float, name: str) -> int:
    return max(1, round(check_expiry(seconds, name, "RedisReplayStore") * 1000))


def _check_timeout(value: float, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ConfigurationError(
            f"RedisReplayStore({name}=...) must be a positive number of seconds"
        )
    return float(value)


def _redacted(url: str) -> str:
    """``url`` without credentials or options other than ``db``; raises ValueError."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    if "@" in parts.netloc:
        netloc = "***@" + netloc
    db = parse_qs(parts.query).get("db")
    query = f"db={db[0]}" if db and db[0].isdigit() else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _describe(client: Any, name: str) -> str:
    kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", None)
    if isinstance(kwargs, dict):
        if kwargs.get("path"):
            return f"unix://{kwargs['path']} ({name}=)"
        if kwargs.get("host"):
            host, port, db = kwargs["host"], kwargs.get("port", 6379), kwargs.get("db", 0)
            return f"redis://{host}:{port}/{db} ({name}=)"
    return f"the client given as {name}="


def _import_redis() -> Any:
    try:
        import redis
    except ImportError:
        raise ConfigurationError(
            "RedisReplayStore needs the redis package: pip install 'webhookverify[redis]'"
        ) from None
    return redis


class RedisReplayStore:
    """A replay store shared through Redis by every process that uses the same server.

    One object serves sync code (:meth:`reserve`, :meth:`commit`,
    :meth:`release`, over ``redis.Redis``) and asyncio (:meth:`areserve`,
    :meth:`acommit`, :meth:`arelease`, over ``redis.asyncio``); from a URL it
    builds only the client that is used, when it is first used, and one async
    client per event loop. Build one store per process (at import time or app
    start) and share it between threads and tasks.

    Semantics (the :class:`~webhookverify.replay.ReplayStore` protocol):
    ``reserve`` answers ``NEW`` to exactly one caller across every process,
    and holds the key in flight for ``lease`` seconds; ``commit`` turns an
    in-flight key into done for the ``ttl`` given at reserve time (and marks a
    key whose lease already ended as done, since the delivery was processed);
    ``release`` deletes an in-flight key and never a done one.

    Ownership: each reservation carries a random token, kept in Redis and in
    the caller's context (:mod:`contextvars`), which follows the code that
    reserved: the same thread in sync code, the same task and the tasks it
    starts under asyncio. ``commit`` and ``release`` from there act only on
    that reservation: when its lease ended and another worker reserved the key
    again, they leave the other worker's reservation alone and log a warning
    (raise the lease above the longest a delivery takes). Called from code
    that did not reserve the key (another process, a thread without that
    context), they act on whichever reservation is in flight.

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
        self._redis = _import_redis()
        if url is None and client is None and async_client is None:
            raise ConfigurationError(
                "RedisReplayStore needs url= or a client (client= for sync code, "
                "async_client= for asyncio)"
            )
        where = None
        if url is not None:
            if not isinstance(url, str) or urlsplit(url).scheme not in _SCHEMES:
                raise ConfigurationError(
                    "RedisReplayStore(url=...) must be a redis://, rediss:// or unix:// URL"
                )
            try:
                where = _redacted(url)
                self._redis.connection.parse_url(url)
            except (ValueError, TypeError):
                # The parser's message may quote the URL, password included.
                raise ConfigurationError(
                    "RedisReplayStore(url=...) is not a valid Redis URL "
                    "(check its host, port and query options)"
                ) from None
        if client is not None and type(client).__module__.startswith("redis.asyncio"):
            raise ConfigurationError(
                "RedisReplayStore(client=...) got a redis.asyncio client; pass it as async_client="
            )
        if async_client is not None and not type(async_client).__module__.startswith(
            "redis.asyncio"
        ):
            raise ConfigurationError(
                "RedisReplayStore(async_client=...) needs a redis.asyncio client; "
                "pass a sync one as client="
            )
        if not isinstance(prefix, str):
            raise ConfigurationError("RedisReplayStore(prefix=...) must be a str")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ConfigurationError("RedisReplayStore(retries=...) must be an int >= 0")
        self.prefix = prefix
        self._socket_timeout = _check_timeout(socket_timeout, "socket_timeout")
        self._connect_timeout = _check_timeout(connect_timeout, "connect_timeout")
        self._retries = retries
        self._url = url
        if where is not None:
            self._where, self._setting = where, "url="
        elif client is not None:
            self._where, self._setting = _describe(client, "client"), "client="
        else:
            self._where, self._setting = _describe(async_client, "async_client"), "async_client="
        self._given = client
        self._given_async = async_client
        self._built: Any = None
        self._built_async: dict[Any, Any] = {}  # event loop -> its client
        self._lock = threading.Lock()
        self._id = new_store_id()
        from redis.exceptions import NoScriptError, RedisError

        self._noscript = NoScriptError
        # OSError covers the socket errors (and TimeoutError) a client lets through.
        self._failures = (RedisError, OSError)

    def __repr__(self) -> str:
        return f"RedisReplayStore({self._where!r}, prefix={self.prefix!r})"

    # -- the sync API ------------------------------------------------------------------

    def reserve(self, key: str, ttl: float, lease: float) -> ReserveResult:
        """Reserve ``key`` for the caller unless it is in flight or done.

        Args:
            key: the delivery key (the store puts ``prefix`` before it).
            ttl: seconds to remember the key once committed.
            lease: seconds the reservation lasts unless committed or released.
                Both are rounded to milliseconds, at least one.

        Returns:
            ``NEW`` (the key is now in flight for the caller), ``IN_FLIGHT``
            or ``DONE``.

        Raises:
            ReplayStoreUnavailable: Redis could not be reached or failed.
            ConfigurationError: ``ttl`` or ``lease`` is negative, not a
                number, or above :data:`MAX_EXPIRY`.
        """
        ttl_ms, lease_ms = _milliseconds(ttl, "ttl"), _milliseconds(lease, "lease")
        token = secrets.token_hex(8)
        code = self._run(_RESERVE, key, f"f|{ttl_ms}|{token}", lease_ms)
        return self._reserved(key, code, token, ttl_ms)

    def commit(self, key: str) -> None:
        """Mark ``key`` done, for the ``ttl`` given when it was reserved.

        A done key stays done (its expiry unchanged); a key whose lease ended
        is marked done too; another worker's reservation is left alone.

        Raises:
            ReplayStoreUnavailable: Redis could not be reached or failed.
        """
        token, ttl_ms = self._recall(key)
        self._settled(key, self._run(_COMMIT, key, token, ttl_ms), "commit")

    def release(self, key: str) -> None:
        """Forget the in-flight reservation of ``key``, so the sender's retry is processed.

        A done key and another worker's reservation are left alone.

        Raises:
            ReplayStoreUnavailable: Redis could not be reached or failed.
        """
        token, _ = self._recall(key)
        self._settled(key, self._run(_RELEASE, key, token), "release")

    def close(self) -> None:
        """Close the connections the store opened for the sync methods.

        Clients passed in are left to their owner. A store used again after
        ``close`` reconnects. Async clients are closed by :meth:`aclose`.
        """
        with self._lock:
            client, self._built = self._built, None
            for loop in [loop for loop in self._built_async if loop.is_closed()]:
                del self._built_async[loop]
        if client is not None:
            client.close()

    def __enter__(self) -> RedisReplayStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- the async API -----------------------------------------------------------------

    async def areserve(self, key: str, ttl: float, lease: float) -> ReserveResult:
        """:meth:`reserve` for asyncio: same arguments, answers and errors."""
        ttl_ms, lease_ms = _milliseconds(ttl, "ttl"), _milliseconds(lease, "lease")
        token = secrets.token_hex(8)
        code = await self._arun(_RESERVE, key, f"f|{ttl_ms}|{token}", lease_ms)
        return self._reserved(key, code, token, ttl_ms)

    async def acommit(self, key: str) -> None:
        """:meth:`commit` for asyncio."""
        token, ttl_ms = self._recall(key)
        self._settled(key, await self._arun(_COMMIT, key, token, ttl_ms), "commit")

    async def arelease(self, key: str) -> None:
        """:meth:`release` for asyncio."""
        token, _ = self._recall(key)
        self._settled(key, await self._arun(_RELEASE, key, token), "release")

    async def aclose(self) -> None:
        """Close the connections the store opened, for this event loop and the sync methods."""
        import asyncio

        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._built_async.pop(loop, None)
        if client is not None:
            # redis 5.0.0 named it close(); 5.0.1 added aclose()
            await (getattr(client, "aclose", None) or client.close)()
        self.close()

    async def __aenter__(self) -> RedisReplayStore:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- the machinery -----------------------------------------------------------------

    def _options(self, retry_class: Any) -> dict[str, Any]:
        from redis.backoff import ExponentialBackoff

        backoff = ExponentialBackoff(cap=_RETRY_BACKOFF * 10, base=_RETRY_BACKOFF)
        return {
            "socket_timeout": self._socket_timeout,
            "socket_connect_timeout": self._connect_timeout,
            "retry": retry_class(backoff, self._retries),
        }

    def _sync_client(self) -> Any:
        if self._given is not None:
            return self._given
        with self._lock:
            if self._built is None:
                if self._url is None:
                    raise ConfigurationError(
                        "RedisReplayStore has only async_client=; pass client= or url= "
                        "to use the sync methods"
                    )
                from redis.retry import Retry

                self._built = self._redis.Redis.from_url(self._url, **self._options(Retry))
            return self._built

    def _async_client(self) -> Any:
        if self._given_async is not None:
            return self._given_async
        import asyncio

        loop = asyncio.get_running_loop()
        client = self._built_async.get(loop)
        if client is not None:
            return client
        if self._url is None:
            raise ConfigurationError(
                "RedisReplayStore has only client=; pass async_client= or url= "
                "to use the async methods"
            )
        import redis.asyncio
        from redis.asyncio.retry import Retry

        with self._lock:
            # Connections belong to the loop that opened them: one client per loop,
            # forgetting those of loops that have been closed.
            for old in [old for old in self._built_async if old.is_closed()]:
                del self._built_async[old]
            client = redis.asyncio.Redis.from_url(self._url, **self._options(Retry))
            self._built_async[loop] = client
        return client

    def _run(self, script: _Script, key: str, *args: str | int) -> Any:
        try:
            client = self._sync_client()
            try:
                return client.evalsha(script.sha, 1, self.prefix + key, *args)
            except self._noscript:
                return client.eval(script.source, 1, self.prefix + key, *args)
        except self._failures as exc:
            raise self._unavailable(exc) from exc

    async def _arun(self, script: _Script, key: str, *args: str | int) -> Any:
        try:
            client = self._async_client()
            try:
                return await client.evalsha(script.sha, 1, self.prefix + key, *args)
            except self._noscript:
                return await client.eval(script.source, 1, self.prefix + key, *args)
        except self._failures as exc:
            raise self._unavailable(exc) from exc

    def _unavailable(self, exc: BaseException) -> ReplayStoreUnavailable:
        cause = type(exc).__name__
        code = str(exc).split(" ", 1)[0] if isinstance(exc, self._redis.ResponseError) else ""
        if code.isalpha() and code.isupper():  # a Redis error code: WRONGTYPE, NOPERM, READONLY
            cause = f"{cause} {code}"
        return ReplayStoreUnavailable(
            f"the Redis replay store at {self._where} failed ({cause}); "
            f"check RedisReplayStore({self._setting}...) and the Redis server"
        )

    def _reserved(self, key: str, code: Any, token: str, ttl_ms: int) -> ReserveResult:
        result = _RESERVED.get(code) if isinstance(code, int) else None
        if result is None:
            raise ReplayStoreUnavailable(
                f"the Redis replay store at {self._where} gave an unexpected answer; "
                f"check that RedisReplayStore({self._setting}...) points to a Redis server"
            )
        if result is ReserveResult.NEW:
            hold(self._id, key, token, ttl_ms)
        return result

    def _recall(self, key: str) -> tuple[str, int]:
        # Without a reservation of ours, act on whichever is in flight; a key
        # already gone is then remembered as long as any scheme needs.
        mine = held_by_me(self._id, key)
        if mine is None:
            return "", round(NO_TIMESTAMP_TTL * 1000)
        return mine[0], int(mine[1])

    def _settled(self, key: str, code: Any, action: str) -> None:
        if code != -1:
            let_go(self._id, key)
        else:
            # Keep the lost token: a later commit or release from here must not
            # fall back to acting on the other worker's reservation.
            warn_lost_lease(key, action)
