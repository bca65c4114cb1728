"""WSGI entry point: plain Django; the view verifies its webhooks (see views.py).

cd examples/django_project && gunicorn hooksite.wsgi:application
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hooksite.settings")
application = get_wsgi_application()
