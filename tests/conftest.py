from __future__ import annotations

import sys
from pathlib import Path

# contract.py and _vectors.py are shared test modules, importable by name.
sys.path.insert(0, str(Path(__file__).parent))

# The Redis fixtures (redis_url, redis_client, redis_prefix) for every module.
# The local HTTPS key server (server, fresh) for the modules that fetch keys.
from _keyserver import fresh, server  # noqa: F401
from _redis import _redis_server, redis_client, redis_prefix, redis_url  # noqa: F401
