"""``python -m webhookverify``: the ``webhookverify`` command, for an
environment whose scripts directory is not on ``PATH`` (a virtual
environment that is not activated, ``pipx run``, a container's interpreter).
"""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
