"""The contract every verifier keeps, as one pytest test class to subclass.

Import it as ``webhookverify.testing.VerifierContract`` (this module needs
pytest; ``webhookverify.testing`` itself does not load it). A subclass says
how to build its verifier from keys, and inherits the tests:

    class TestGitHub(VerifierContract):
        def make(self, keys):
            return presets.github(secrets=keys)

``new_key(i)`` makes the i-th distinct key (a :class:`Secret` with
``key_id=f"k{i}"`` by default; public-key verifiers override it to return
whatever their ``make`` takes). Set ``signs_timestamp = True`` when the scheme
signs a timestamp (with ``tolerance``, and ``future_tolerance`` when the window
ahead differs), and ``sign_parts`` when ``sign`` needs more than the body.
"""

from __future__ import annotations

import contextlib
import random
from typing import Any, ClassVar

import pytest

from .errors import VerificationError
from .keys import Secret
from .request import WebhookRequest
from .testing import sign_request
from .types import Verification

__all__ = ["GARBAGE_VALUES", "NOW", "URL", "VerifierContract", "mutate"]

NOW = 1_700_000_000.0
URL = "https://hooks.example.test/webhooks/incoming?source=contract"

GARBAGE_VALUES = [
    "",
    " ",
    "\t",
    "=",
    ",",
    ",,,,",
    "v1=",
    "t=,v1=",
    "t=1,t=2,v1=00",
    "sha256=",
    "not a signature",
    "0" * 64,
    "zz" * 32,
    "é" * 8,
    "ÿ\x80\x9f",
    "A" * 10_000,
    "=" * 5000 + "," * 5000,
    "-1",
    "1e9",
    "v1,Zm9v v1a,Zm9v",
    "Basic !!!",
    "Bearer",
    "99999999999999999999999999",
]


def mutate(text: str, index: int) -> str:
    """Replace one character with one that certainly means something else."""
    char = text[index]
    if char.lower() in "0123456789abcdef":
        repl = "1" if char.lower() == "0" else "0"
    else:
        repl = "B" if char == "A" else "A"
    return text[:index] + repl + text[index + 1 :]


class VerifierContract:
    signs_timestamp: ClassVar[bool] = False
    tolerance: ClassVar[float] = 300.0
    # the window ahead of the clock; None: the same as ``tolerance``
    future_tolerance: ClassVar[float | None] = None
    sign_parts: ClassVar[dict[str, Any]] = {}
    body: ClassVar[bytes] = b'{"event":"contract.test","data":{"n":1,"text":"h\xc3\xa9llo"}}'
    url: ClassVar[str] = URL

    # -- what a subclass provides --------------------------------------------------

    def make(self, keys: list[Any]) -> Any:
        raise NotImplementedError

    def new_key(self, index: int, **window: float) -> Any:
        return Secret(f"contract-secret-{index}-0123456789abcdef", key_id=f"k{index}", **window)

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        """The headers whose every character is covered by the signature check."""
        return tuple(verifier.required_headers[:1])

    # -- helpers -------------------------------------------------------------------

    def signed(self, verifier: Any, body: bytes | None = None, now: float = NOW) -> WebhookRequest:
        return sign_request(
            verifier,
            self.body if body is None else body,
            now=now,
            url=self.url,
            received_at=NOW,
            **self.sign_parts,
        )

    # -- the contract --------------------------------------------------------------

    def test_round_trip(self) -> None:
        verifier = self.make([self.new_key(0)])
        result = verifier.verify(self.signed(verifier), now=NOW)
        assert isinstance(result, Verification)
        assert result.key_id == "k0"
        if self.signs_timestamp:
            assert result.timestamp is not None
            assert abs(result.timestamp - NOW) < 1

    def test_now_defaults_to_received_at(self) -> None:
        verifier = self.make([self.new_key(0)])
        assert verifier.verify(self.signed(verifier)).key_id == "k0"

    def test_required_headers_present_in_signed_request(self) -> None:
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        assert verifier.required_headers
        for name in verifier.required_headers:
            assert name in request.headers

    @pytest.mark.parametrize("where", ["first", "middle", "last", "append", "truncate"])
    def test_altered_body_rejected(self, where: str) -> None:
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        body = bytearray(request.body)
        if where == "append":
            body += b" "
        elif where == "truncate":
            body = body[:-1]
        else:
            index = {"first": 0, "middle": len(body) // 2, "last": len(body) - 1}[where]
            body[index] ^= 0x01
        with pytest.raises(VerificationError):
            verifier.verify(request.replace(body=bytes(body)), now=NOW)

    def test_every_character_of_signature_headers_matters(self) -> None:
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        for name in self.signature_headers(verifier):
            value = request.headers[name]
            for index in range(len(value)):
                headers = {k: v for k, v in request.headers.items() if k.lower() != name.lower()}
                headers[name] = mutate(value, index)
                with pytest.raises(VerificationError):
                    verifier.verify(request.replace(headers=headers), now=NOW)

    def test_wrong_key_rejected(self) -> None:
        signer = self.make([self.new_key(0)])
        verifier = self.make([self.new_key(1)])
        with pytest.raises(VerificationError) as info:
            verifier.verify(self.signed(signer), now=NOW)
        assert info.value.reason == "signature_mismatch"

    def test_rotation(self) -> None:
        old, new = self.new_key(0), self.new_key(1)
        both = self.make([old, new])
        from_old = self.signed(self.make([old]))
        from_new = self.signed(self.make([new]))
        assert both.verify(from_old, now=NOW).key_id == "k0"
        assert both.verify(from_new, now=NOW).key_id == "k1"
        # signing uses the newest key
        assert self.make([new]).verify(self.signed(both), now=NOW).key_id == "k1"

    def test_expired_key_does_not_verify(self) -> None:
        expired = self.new_key(0, not_after=NOW - 1)
        current = self.new_key(1)
        verifier = self.make([expired, current])
        request = self.signed(self.make([self.new_key(0)]))
        with pytest.raises(VerificationError):
            verifier.verify(request, now=NOW)
        not_yet = self.make([self.new_key(0, not_before=NOW + 10)])
        with pytest.raises(VerificationError):
            not_yet.verify(request, now=NOW)

    def test_missing_headers_rejected(self) -> None:
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        for name in verifier.required_headers:
            headers = [(k, v) for k, v in request.headers.raw_items() if k.lower() != name.lower()]
            with pytest.raises(VerificationError):
                verifier.verify(request.replace(headers=headers), now=NOW)

    def test_garbage_headers_give_only_verification_errors(self) -> None:
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        for name in verifier.required_headers:
            for garbage in GARBAGE_VALUES:
                headers = [
                    (k, v) for k, v in request.headers.raw_items() if k.lower() != name.lower()
                ]
                headers.append((name, garbage))
                with pytest.raises(VerificationError):
                    verifier.verify(request.replace(headers=headers), now=NOW)
            duplicated = [*request.headers.raw_items(), (name, request.headers[name])]
            with contextlib.suppress(VerificationError):
                verifier.verify(request.replace(headers=duplicated), now=NOW)

    def test_garbage_body_gives_only_verification_errors(self) -> None:
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        for body in (b"", b"\xff\xfe\x00", b"\x00" * 100, b"{" * 1000, b"a=%ZZ&&="):
            with pytest.raises(VerificationError):
                verifier.verify(request.replace(body=body), now=NOW)

    def test_stale_and_future_timestamps_rejected(self) -> None:
        if not self.signs_timestamp:
            pytest.skip("this scheme signs no timestamp")
        verifier = self.make([self.new_key(0)])
        past = self.tolerance
        future = past if self.future_tolerance is None else self.future_tolerance
        for offset, reason in (
            (-past - 5, "timestamp_too_old"),
            (future + 5, "timestamp_in_future"),
        ):
            with pytest.raises(VerificationError) as info:
                verifier.verify(self.signed(verifier, now=NOW + offset), now=NOW)
            assert info.value.reason == reason
        # inside the window on both sides
        for offset in (-past + min(5, past / 2), future - min(5, future / 2)):
            verifier.verify(self.signed(verifier, now=NOW + offset), now=NOW)

    def test_repr_hides_key_material(self) -> None:
        key = self.new_key(0)
        verifier = self.make([key])
        text = repr(verifier) + str(verifier)
        material = getattr(key, "value", None)
        if isinstance(material, bytes):
            assert material.decode("latin-1") not in text
        assert "contract-secret" not in text

    # Random bodies for the round trip, from a fixed seed so that a failure
    # repeats; a few hundred bytes to 2 KiB covers every hashing block boundary.
    random_bodies: ClassVar[int] = 40

    def test_property_round_trip_and_any_flip(self) -> None:
        verifier = self.make([self.new_key(0)])
        rng = random.Random(0)  # noqa: S311 - repeatable test data, not a secret
        bodies = [b"", b"\x00", bytes(range(256)) * 8]
        bodies += [rng.randbytes(rng.randrange(2049)) for _ in range(self.random_bodies)]
        for body in bodies:
            try:
                request = self.signed(verifier, body=body)
            except VerificationError:
                # a scheme whose body must be of one form (JSON, form data) may
                # refuse to sign anything else; it must then refuse to verify it
                continue
            assert verifier.verify(request, now=NOW).key_id == "k0"
            if body:
                altered = bytearray(body)
                flip = rng.randrange(len(body) * 8)
                altered[flip // 8] ^= 1 << (flip % 8)
                with pytest.raises(VerificationError):
                    verifier.verify(request.replace(body=bytes(altered)), now=NOW)
