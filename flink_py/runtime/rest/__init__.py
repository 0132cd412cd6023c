"""The JobManager's REST API (Flink's REST API v1): cluster, job and TaskManager views, job
submission and cancellation, served over HTTP next to the JobManager's RPC endpoint."""

from flink_py.runtime.rest.server import RestServer

__all__ = ["RestServer"]
