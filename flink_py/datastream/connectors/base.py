"""What connectors share (``pyflink.datastream.connectors.base``): :class:`DeliveryGuarantee`.

PyFlink's ``Source``, ``Sink``, ``SupportsPreprocessing`` and ``StreamTransformer`` of this
module wrap Java connectors; flink_py's sources and sinks are Python classes, so it has none
of them.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["DeliveryGuarantee"]


class DeliveryGuarantee(Enum):
    """The guarantee a sink gives for the records it writes (Flink's
    ``org.apache.flink.connector.base.DeliveryGuarantee``). A pipeline gives at most the
    weakest guarantee of its sources and sinks.

    * ``EXACTLY_ONCE``: each record is written once, also when the job fails over (the
      sink commits with checkpoints).
    * ``AT_LEAST_ONCE``: no record is lost; after a failover some may be written again.
    * ``NONE``: best effort; records may be lost or written twice.
    """

    # Java's ordinals (PyFlink's values are ``(0,)``, ``(1,)`` and ``2``, a typo there).
    EXACTLY_ONCE = 0
    AT_LEAST_ONCE = 1
    NONE = 2
