"""The AWS Step Functions API (JSON 1.0 protocol) over the service layer.

`create_app(service)` is the ASGI app; `serve(settings, handlers, backend=...)` runs it
over the embedded engine, or over Redis + Celery (`server.cluster_backend`: `stepline
api`, and `stepline server` with REDIS_URL, which also runs workers and timers). Each
action lives in an `actions_*` module; requests are checked against botocore's model of
the service (`shapes`).
"""

from scheduler.api.app import ACTIONS, create_app
from scheduler.api.server import DEFAULT_PORT, serve

__all__ = ["ACTIONS", "DEFAULT_PORT", "create_app", "serve"]
