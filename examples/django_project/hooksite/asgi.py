"""ASGI entry point: the same project under an ASGI server.

cd examples/django_project && uvicorn hooksite.asgi:application
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hooksite.settings")
application = get_asgi_application()
