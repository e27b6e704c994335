"""The Step Functions service layer: what the API calls, whatever engine runs executions.

`build_service(engine, kv)` gives a `StepFunctions` over an `ExecutionEngine` (the
embedded `EmbeddedEngine`, or `engine_redis.RedisEngine` on Redis + Celery, imported from
its module so the embedded default never loads Celery) and a `KeyValue` store for the
registry of state machines, versions, aliases, activities and tags (`MemoryKV`, or
`RedisKV` from `RedisEngine.registry_kv()`). Errors are `ServiceError`s named and worded
as AWS's.
"""

from scheduler.service.engines import EmbeddedEngine, ExecutionEngine
from scheduler.service.errors import ErrorCode, ServiceError
from scheduler.service.kv import KeyValue, MemoryKV
from scheduler.service.records import MachineConfig
from scheduler.service.stepfunctions import StepFunctions, build_service

__all__ = [
    "EmbeddedEngine",
    "ErrorCode",
    "ExecutionEngine",
    "KeyValue",
    "MachineConfig",
    "MemoryKV",
    "ServiceError",
    "StepFunctions",
    "build_service",
]
