"""Write docs/presets.md from the presets' own signatures and docstrings.

    python tools/gen_presets_doc.py          # rewrite docs/presets.md
    python tools/gen_presets_doc.py --check  # exit 1 if it is out of date

The test suite runs the check, so the page always says what the code does.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from webhookverify import presets  # noqa: E402

TARGET = ROOT / "docs" / "presets.md"


def _signature(name: str) -> str:
    signature = inspect.signature(getattr(presets, name))
    parts = []
    for parameter in signature.parameters.values():
        if parameter.kind is parameter.VAR_KEYWORD:
            parts.append(f"**{parameter.name}")
        elif parameter.default is parameter.empty:
            parts.append(parameter.name)
        else:
            parts.append(f"{parameter.name}={parameter.default!r}")
    keyword_only = any(p.kind is p.KEYWORD_ONLY for p in signature.parameters.values())
    positional = [p for p in signature.parameters.values() if p.kind is not p.KEYWORD_ONLY]
    if keyword_only and not positional:
        parts.insert(0, "*")
    return f"presets.{name}({', '.join(parts)})"


def render() -> str:
    lines = [
        "# Presets",
        "",
        "One factory per provider in `webhookverify.presets`, each returning a verifier",
        "configured the way that provider signs. This page is generated from the code",
        "(`python tools/gen_presets_doc.py`); the docstrings are the reference.",
        "",
        "| preset | what it verifies |",
        "|---|---|",
    ]
    for name in presets.PRESETS:
        summary = (inspect.getdoc(getattr(presets, name)) or "").split("\n", 1)[0]
        # the anchor of a heading keeps its underscores (GitHub and MkDocs alike)
        lines.append(f"| [`{name}`](#{name}) | {summary} |")
    lines += ["", "Helpers for providers' one-time endpoint checks:", ""]
    for name in sorted(presets._HANDSHAKES):
        summary = (inspect.getdoc(getattr(presets, name)) or "").split("\n", 1)[0]
        lines.append(f"- `presets.{name}`: {summary}")
    for name in presets.PRESETS:
        doc = inspect.getdoc(getattr(presets, name)) or ""
        lines += ["", f"## {name}", "", "```python", _signature(name), "```", "", doc]
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            print("docs/presets.md is out of date: run python tools/gen_presets_doc.py")
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)} ({len(presets.PRESETS)} presets)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
