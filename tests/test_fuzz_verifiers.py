"""Fuzzing every preset and verifier with attacker-shaped input (seeded, bounded).

Two properties. Whatever arrives, ``verify`` returns or raises a
``VerificationError``, nothing else (directly, through ``HandlerRegistry`` and
through ``Receiver``). And a mutation of a correctly signed request verifies
only where the scheme does not protect what changed (see ``fuzzing.meaning``):
anything else is a forgery.

Seed and size: ``WEBHOOKVERIFY_FUZZ_SEED`` and ``WEBHOOKVERIFY_FUZZ_EXAMPLES``.
"""

from __future__ import annotations

import json
import logging
import random
from typing import Any

import pytest

from webhookverify import (
    Handler,
    HandlerRegistry,
    InvalidRequest,
    MalformedTimestamp,
    PayloadError,
    Receiver,
    VerificationError,
    WebhookRequest,
    presets,
)
from webhookverify.presets._box import escape_body
from webhookverify.testing import sign_request

from fuzz_inputs import (
    CONTENT_TYPES,
    TIMESTAMPS,
    mutate_request,
    mutate_text,
    random_body,
    signature_list,
)
from fuzzing import EXAMPLES, NOW, SEED, Case, all_cases, count, meaning, rng_for

CASES = all_cases()
BY_NAME = {case.name: case for case in CASES}


def verify_or_refuse(case: Case, request: WebhookRequest) -> Any:
    """``verify``'s result, or ``None`` for a ``VerificationError``; anything else fails."""
    try:
        return case.verifier.verify(request, now=NOW)
    except VerificationError:
        return None
    except Exception as exc:  # noqa: BLE001 - a foreign exception is the defect hunted
        pytest.fail(
            f"{case.name}: {type(exc).__name__}: {exc} (seed {SEED}) for "
            f"headers={list(request.headers.raw_items())!r:.600} body={request.body!r:.300}"
        )


def box_fallback(case: Case, request: WebhookRequest) -> bool:
    """Box's escaped-body fallback, by design: another spelling of the same JSON document."""
    if case.name != "box" or escape_body(request.body) != case.request.body:
        return False
    try:
        return bool(json.loads(request.body) == json.loads(case.request.body))
    except ValueError:
        return False


def replay_key(case: Case, verification: Any) -> Any:
    """What the replay guard keys on: the signed id, else the signed message's digest."""
    if getattr(case.verifier, "replay_default", "content") == "off":
        return None
    if verification.delivery_id is not None:
        return verification.delivery_id
    return verification.content_digest()


def find_forgery(case: Case, rng: random.Random, examples: int) -> str | None:
    """Mutate ``case``'s signed request ``examples`` times; describe the first forgery.

    A forgery: a mutation that verifies with another meaning, or with another
    replay key (then a captured delivery, so altered, is dispatched again).
    Also fails the test if the mutations nearly all verify (then they test nothing).
    """
    signed = case.verifier.verify(case.request, now=NOW)
    original = meaning(case, case.request, signed)
    key = replay_key(case, signed)
    verified = 0
    for _ in range(examples):
        label, request = mutate_request(rng, case.request)
        if rng.random() < 0.3:  # two mutations at once
            second, request = mutate_request(rng, request)
            label = f"{label} + {second}"
        verification = verify_or_refuse(case, request)
        count()
        if verification is None:
            continue
        verified += 1
        try:
            now_means = meaning(case, request, verification)
        except VerificationError:
            now_means = ("the verified request cannot be read as its scheme reads it",)
        if box_fallback(case, request):
            continue
        if now_means != original or replay_key(case, verification) != key:
            return (
                f"forgery: {case.name} verified after changing {label} (seed {SEED}): "
                f"{now_means!r:.300} != {original!r:.300} or another replay key; "
                f"headers={list(request.headers.raw_items())!r:.600} "
                f"url={request.url!r} method={request.method} body={request.body!r:.300}"
            )
    assert verified < examples * 0.9, (case.name, verified)
    return None


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_mutation_verifies_only_where_the_scheme_does_not_protect_it(case: Case) -> None:
    forgery = find_forgery(case, rng_for(f"mutations:{case.name}"), EXAMPLES)
    assert forgery is None, forgery


class _Lenient:
    """A deliberately broken verifier: it ignores whitespace at the end of the body."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def verify(self, request: WebhookRequest, now: float | None = None) -> Any:
        return self.inner.verify(request.replace(body=request.body.rstrip()), now=now)


def test_the_fuzzer_finds_a_forgery_when_there_is_one() -> None:
    case = BY_NAME["github"]
    lenient = Case("github", _Lenient(case.verifier), case.request)
    assert find_forgery(case, rng_for("self-test"), 400) is None
    assert find_forgery(lenient, rng_for("self-test"), 400) is not None


def garbage_request(rng: random.Random, case: Case) -> WebhookRequest:
    """The signed request with attacker-shaped headers and body (drawn again if invalid)."""
    while True:
        try:
            return _garbage_request(rng, case)
        except InvalidRequest:
            continue


def _garbage_request(rng: random.Random, case: Case) -> WebhookRequest:
    pairs = list(case.request.headers.raw_items())
    # half the time the signature headers stay intact, so that the body is reached
    for index, (name, value) in enumerate(pairs if rng.random() < 0.5 else ()):
        pick = rng.randrange(4)
        if pick == 0:
            pairs[index] = (name, rng.choice(TIMESTAMPS))
        elif pick == 1:
            pairs[index] = (name, signature_list(rng))
        elif pick == 2:
            pairs[index] = (name, mutate_text(rng, value))
    if rng.random() < 0.3:
        pairs += [rng.choice(pairs)] * rng.choice([1, 2, 300])
    body, content_type = random_body(rng)
    if rng.random() < 0.8:
        pairs = [(n, v) for n, v in pairs if n.lower() != "content-type"]
        pairs.append(("Content-Type", content_type))
    return case.request.replace(headers=pairs, body=body)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_attacker_shaped_input_gives_only_verification_errors(case: Case) -> None:
    rng = rng_for(f"garbage:{case.name}")
    for _ in range(EXAMPLES // 3):
        request = garbage_request(rng, case)
        verification = verify_or_refuse(case, request)
        count()
        # a body the scheme covers cannot verify once replaced by garbage
        changed = request.body != case.request.body
        assert verification is None or not changed or case.body == "none", (case.name, request)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_attacker_shaped_bodies_signed_correctly_verify_or_refuse(case: Case) -> None:
    """What a scheme parses after the signature (Linear's timestamp, say) meets odd bodies."""
    rng = rng_for(f"signed:{case.name}")
    for _ in range(EXAMPLES // 6):
        body, content_type = random_body(rng)
        try:
            request = sign_request(
                case.verifier,
                body,
                now=NOW,
                url=case.request.url,
                headers={"Content-Type": content_type},
                id="msg_fuzz",
            )
        except VerificationError:
            continue  # a scheme may refuse to sign a body it could not verify
        verify_or_refuse(case, request)
        count()


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_registry_and_receiver_refuse_with_verification_errors_only() -> None:
    rng = rng_for("registry")
    # one case per verifier, and no token scheme (a token verifies any body),
    # so that a request has one owner
    owners = {id(case.verifier): case for case in reversed(CASES) if case.body != "none"}
    signers = list(owners.values())
    registry = HandlerRegistry([Handler(case.name, case.verifier) for case in signers])
    receiver = Receiver(registry)
    errors = _Errors()
    logger = logging.getLogger("webhookverify")
    logger.addHandler(errors)
    try:
        for _ in range(EXAMPLES):
            case = rng.choice(signers)
            if rng.random() < 0.5:
                request = garbage_request(rng, case)
            else:
                request = mutate_request(rng, case.request)[1]
            try:
                registry.verify(request, now=NOW)
            except VerificationError:
                pass
            outcome = receiver.receive(request, now=NOW)
            count(2)
            assert 200 <= outcome.status <= 599
            assert isinstance(outcome.body, bytes)
            if outcome.delivery is not None and not box_fallback(case, request):
                assert outcome.delivery.handler.name == case.name, (case.name, request)
                signed = case.verifier.verify(case.request, now=NOW)
                verification = outcome.delivery.verification
                assert meaning(case, request, verification) == meaning(
                    case, case.request, signed
                ), (case.name, request)
    finally:
        logger.removeHandler(errors)
    assert not errors.records, [r.getMessage() for r in errors.records[:3]]


def test_delivery_json_refuses_with_payload_errors_only() -> None:
    rng = rng_for("json")
    case = BY_NAME["github"]
    registry = HandlerRegistry([Handler("github", case.verifier)])
    for _ in range(EXAMPLES // 3):
        body, _ = random_body(rng)
        request = case.verifier.sign(body, NOW)
        signed = case.request.replace(body=body, headers={**request, "Content-Type": "x"})
        match = registry.verify(signed, now=NOW)
        receiver = Receiver(registry)
        seen: list[Any] = []
        receiver.bus.bind("webhook.received", seen.append)
        receiver.receive(signed, now=NOW)
        count()
        assert match.handler.name == "github"
        try:
            parsed = seen[0].json()
        except PayloadError:
            continue
        assert parsed == json.loads(body)


def test_box_fallback_accepts_only_what_box_signed() -> None:
    """The fuzzer's Box carve-out, pinned: an unescaped backslash must not verify."""
    case = BY_NAME["box"]
    signed = case.request.replace(body=b'{"name":"C:\\\\new folder"}')
    signed = signed.replace(
        headers={**dict(signed.headers.items()), **case.verifier.sign(signed.body, NOW)}
    )
    forged = signed.replace(body=b'{"name":"C:\\new folder"}')
    case.verifier.verify(signed, now=NOW)
    with pytest.raises(VerificationError):
        case.verifier.verify(forged, now=NOW)


def test_hubspot_delivery_without_its_v3_signature_is_a_replay() -> None:
    verifier = presets.hubspot(secret="hubspot-secret", versions=("v1", "v2", "v3"))
    request = sign_request(verifier, b'{"eventId":1}', url="https://example.test/hubspot")
    receiver = Receiver(HandlerRegistry([Handler("hubspot", verifier)]))
    dispatched: list[Any] = []
    receiver.bus.bind("webhook.received", dispatched.append)
    assert receiver.receive(request).status == 200
    stripped = [(n, v) for n, v in request.headers.raw_items() if n != "X-HubSpot-Signature-v3"]
    assert receiver.receive(request.replace(headers=stripped)).status == 200
    assert len(dispatched) == 1


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_content_type_alone_never_makes_a_request_verify(content_type: str) -> None:
    for case in CASES:
        if case.body == "none":
            continue
        request = case.request.replace(
            headers={**dict(case.request.headers.items()), "Content-Type": content_type},
            body=case.request.body + b"&",
        )
        if case.body == "form":
            continue  # a trailing '&' adds no field: Twilio and Mandrill sign fields
        assert verify_or_refuse(case, request) is None, case.name


# -- defects the fuzzer found, pinned --------------------------------------------------


@pytest.mark.parametrize("name", ["twitch", "box"])
@pytest.mark.parametrize("stamp", ["0000-01-01T00:00:00Z", "0000-12-31T23:59:59+01:00"])
def test_rfc3339_year_zero_is_a_malformed_timestamp(name: str, stamp: str) -> None:
    # calendar.timegm cannot count back to year 0: a ValueError escaped
    case = BY_NAME[name]
    headers = {n: stamp if "timestamp" in n.lower() else v for n, v in case.request.headers.items()}
    with pytest.raises(MalformedTimestamp):
        case.verifier.verify(case.request.replace(headers=headers), now=NOW)
