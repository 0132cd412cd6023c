"""``ExplainDetail`` at PyFlink's path (``pyflink.table.explain_detail``)."""

from flink_py.table.explain import ExplainDetail

__all__ = ["ExplainDetail"]
