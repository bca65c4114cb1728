"""The verifier contract, as the package ships it (webhookverify.testing)."""

from webhookverify.testing_contract import GARBAGE_VALUES, NOW, URL, VerifierContract, mutate

__all__ = ["GARBAGE_VALUES", "NOW", "URL", "VerifierContract", "mutate"]
