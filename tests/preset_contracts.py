"""The verifier contract as a preset runs it: built by name, with every key given.

``PresetContract`` builds ``presets.<preset>(secrets=keys, **options)``;
``UnsignedBodyContract`` is for presets that sign nothing of the body (a
token, HTTP Basic credentials): there the contract's body tests become "the
credentials alone decide", and the replay guard is off.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from webhookverify import presets

from contract import NOW, VerifierContract


class PresetContract(VerifierContract):
    preset: ClassVar[str]
    options: ClassVar[dict[str, Any]] = {}

    def make(self, keys: list[Any]) -> Any:
        return getattr(presets, self.preset)(secrets=keys, **self.options)


class UnsignedBodyContract(PresetContract):
    @pytest.mark.parametrize("where", ["anything", ""])
    def test_altered_body_rejected(self, where: str) -> None:
        verifier = self.make([self.new_key(0)])
        verifier.verify(self.signed(verifier).replace(body=where.encode()), now=NOW)
        assert verifier.replay_default == "off"

    def test_property_round_trip_and_any_flip(self) -> None:
        verifier = self.make([self.new_key(0)])
        assert verifier.verify(self.signed(verifier, body=b"\x00\xff"), now=NOW).key_id == "k0"

    def test_garbage_body_gives_only_verification_errors(self) -> None:
        verifier = self.make([self.new_key(0)])
        verifier.verify(self.signed(verifier).replace(body=b"\xff"), now=NOW)
