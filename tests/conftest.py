from __future__ import annotations

import sys
from pathlib import Path

# contract.py and _vectors.py are shared test modules, importable by name.
sys.path.insert(0, str(Path(__file__).parent))
