"""Gunicorn, the production web server (`gunicorn workbench.wsgi`; read from the working
directory by default). Every value can be overridden by the environment variable named
beside it, so one file serves a laptop, a VM and a container.

Workers are processes (one Python interpreter each, so pages render on every core);
threads let a worker keep serving while one request waits on PostgreSQL. Requests to
this app are short (pages answer in tens of milliseconds; exports stream), so a request
that runs longer than ``timeout`` is stuck and its worker is replaced.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 60)  # a stuck request: the worker is replaced
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)  # on SIGTERM, finish what is in hand
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then (with jitter, so they do not all restart at once): bounds
# the memory any leak can take.
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 500)
# Loaded once in the master and forked: faster start, shared memory; database connections
# are opened per worker after the fork (Django opens them on first use).
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"
# The proxy in front (the bank's load balancer or nginx) sets X-Forwarded-For/-Proto;
# trust it only from the addresses it comes from.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")  # stdout
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Who, what, status, bytes and the time taken in microseconds (%(D)s); never the query
# string's values in full: it may carry a search for a customer's name or number.
access_log_format = '%(h)s %({x-request-id}o)s "%(m)s %(U)s" %(s)s %(B)s %(D)sus "%(a)s"'
