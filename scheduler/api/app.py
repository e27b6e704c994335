"""The ASGI app: the Step Functions JSON protocol on `POST /`, health and metrics.

    POST /      X-Amz-Target: AWSStepFunctions.<Action>   (every action of the service)
    GET  /healthz   the process is up
    GET  /readyz    the engine can take work: on Redis, Redis and the broker answer
                    (503 when it cannot)
    GET  /metrics   Prometheus text format

An action of the service that Stepline does not serve yet answers 400
`UnsupportedOperation`; a target that is no action of the service answers 400
`UnknownOperationException`. No error ever returns a stack trace.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from scheduler.api import (
    actions_activities,
    actions_executions,
    actions_machines,
    actions_map_runs,
    actions_tasks,
    actions_versions,
)
from scheduler.api.errors import ApiError, ProtocolCode
from scheduler.api.metrics import Metrics
from scheduler.api.protocol import (
    Action,
    Context,
    action_of,
    error_response,
    json_response,
    parse_body,
)
from scheduler.api.shapes import check_request, operation_names
from scheduler.service import ServiceError, StepFunctions

log = logging.getLogger(__name__)

#: Every action Stepline serves, by name.
ACTIONS: dict[str, Action] = {
    **actions_machines.ACTIONS,
    **actions_versions.ACTIONS,
    **actions_executions.ACTIONS,
    **actions_map_runs.ACTIONS,
    **actions_activities.ACTIONS,
    **actions_tasks.ACTIONS,
}
#: Largest request body accepted: a 1 MiB definition or a payload, with room for JSON escapes.
MIN_BODY_LIMIT = 4 * 1024 * 1024


def resolve(action: str) -> Action:
    """The handler for `action`; UnsupportedOperation or UnknownOperationException if none."""
    handler = ACTIONS.get(action)
    if handler is not None:
        return handler
    if action in operation_names():
        raise ApiError(
            ProtocolCode.UNSUPPORTED_OPERATION,
            f"Stepline does not support {action} yet (see docs/api.md)",
        )
    raise ApiError(
        ProtocolCode.UNKNOWN_OPERATION, f"{action} is not an action of AWS Step Functions"
    )


class Api:
    """The protocol endpoint: parse, check against the model, call the action, answer."""

    def __init__(self, context: Context, body_limit: int) -> None:
        self.context = context
        self.body_limit = body_limit

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        label, result = "unknown", "OK"
        try:
            action = action_of(request.headers.get("x-amz-target"))
            handler = resolve(action)
            label = action
            raw = await request.body()
            if len(raw) > self.body_limit:
                raise ApiError(
                    ProtocolCode.REQUEST_TOO_LARGE,
                    f"The request is {len(raw)} bytes, over the limit of {self.body_limit}",
                    status=413,
                )
            body = parse_body(raw)
            check_request(action, body)
            response = json_response(await run_in_threadpool(handler, self.context, body))
        except ServiceError as exc:
            result = exc.code.value
            response = error_response(exc.code.value, exc.message, extra=exc.extra)
        except ApiError as exc:
            result = exc.code
            response = error_response(exc.code, exc.message, exc.status, exc.extra)
        except Exception:  # noqa: BLE001 - logged here; the client gets no stack trace
            log.exception("internal error serving %s", label)
            result = ProtocolCode.INTERNAL.value
            response = error_response(
                ProtocolCode.INTERNAL, "An internal error occurred; see the server's log", 500
            )
        metrics = self.context.metrics
        metrics.requests.labels(label, result).inc()
        metrics.latency.labels(label).observe(time.perf_counter() - started)
        return response


def create_app(
    service: StepFunctions,
    *,
    metrics: Metrics | None = None,
    ready: Callable[[], bool] | None = None,
    max_payload_bytes: int = 256 * 1024,
) -> Starlette:
    """The Starlette app serving `service`."""
    metrics = metrics or Metrics()
    api = Api(Context(service, metrics), max(MIN_BODY_LIMIT, 8 * max_payload_bytes))
    is_ready = ready or (lambda: True)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        if await run_in_threadpool(is_ready):  # may wait on Redis and the broker
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "not ready"}, status_code=503)

    async def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.render(), media_type=metrics.content_type)

    routes = [
        Route("/", api.handle, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    return Starlette(routes=routes)
