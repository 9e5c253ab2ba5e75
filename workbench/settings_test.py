"""Test settings: the production settings module with a test-only key and eager tasks.

Everything else (DATABASE_URL, CELERY_BROKER_URL) still comes from the environment, so
`.ci/run` runs the suite on PostgreSQL and Redis.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
# The test client and the browser tests' live server speak plain http: no HTTPS redirect,
# HSTS or Secure cookies here (production keeps them: workbench/tests/test_deploy.py).
os.environ.setdefault("DJANGO_HTTPS", "false")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; Argon2 tested explicitly
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
AXES_FAILURE_LIMIT = 5
