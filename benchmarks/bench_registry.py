"""The registry's cost as it grows, and the receiver's cost over a bare verify.

    python benchmarks/bench_registry.py

1. Registries of 1, 10, 100 and 1000 handlers, each on its own signature
   header, the matching handler last: the header index should make 1000
   handlers cost about what the one real candidate costs (target: within 3x
   of verifying with that handler alone).
2. ``Receiver.receive`` on a 1 KiB delivery with the memory replay store
   (reserve, dispatch to one listener that does nothing, commit), against a
   bare ``verify`` of the same request: the pipeline's overhead, reported.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from webhookverify import EventBus, Handler, HandlerRegistry, HmacVerifier, Receiver
from webhookverify.replay import MemoryReplayStore
from webhookverify.testing import sign_request

from benchmarks._harness import compare, report

BODY = b'{"action":"opened","number":1,"padding":"' + b"x" * 970 + b'"}'


def registries() -> dict[str, float]:
    candidates = {}
    last = None
    for size in (1, 10, 100, 1000):
        handlers = [
            Handler(f"h{i}", HmacVerifier(secret=f"secret-{i}", header=f"X-Signature-{i}"))
            for i in range(size)
        ]
        last = handlers[-1]
        registry = HandlerRegistry(handlers)
        request = sign_request(last.verifier, BODY)
        assert registry.verify(request).handler is last
        candidates[f"registry of {size}"] = lambda r=registry, q=request: r.verify(q)
    assert last is not None
    alone = last.verifier
    request = sign_request(alone, BODY)
    candidates = {"that handler alone": lambda: alone.verify(request), **candidates}
    results = compare(candidates)
    return report("HandlerRegistry.verify, the match last", results, "that handler alone")


def receiver_overhead() -> dict[str, float]:
    verifier = HmacVerifier(secret="secret", header="X-Signature")
    handler = Handler("h", verifier)
    bus = EventBus()
    bus.bind("webhook.received", lambda delivery: None)
    receiver = Receiver(HandlerRegistry([handler]), bus, replay_store=MemoryReplayStore())
    # distinct deliveries, so every receive is a new one (content replay keys)
    requests = [
        sign_request(verifier, BODY.replace(b"opened", f"{i:06d}".encode())) for i in range(20_000)
    ]
    cycle = itertools.cycle(range(len(requests)))

    def receive() -> object:
        index = next(cycle)
        if index == 0:
            receiver.replay_store = MemoryReplayStore()
        return receiver.receive(requests[index])

    probe = receiver.receive(sign_request(verifier, b"{}"))
    assert probe.status == 200
    assert probe.reason == "accepted"
    sample = requests[0]
    results = compare({"bare verify": lambda: verifier.verify(sample), "Receiver.receive": receive})
    return report("Receiver.receive vs a bare verify, 1 KiB", results, "bare verify")


if __name__ == "__main__":
    growth = registries()
    overhead = receiver_overhead()
    print(
        f"\n1000 handlers: {growth['registry of 1000']:.2f}x of one handler alone (target <= 3x); "
        f"receiver: {overhead['Receiver.receive']:.2f}x of a bare verify"
    )
