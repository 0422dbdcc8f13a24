"""Event-log port and adapters."""

from couture_common.eventlog.port import (
    Consumer,
    EventLog,
    EventLogError,
    Record,
    TopicPartition,
    partition_for,
)

__all__ = ["Consumer", "EventLog", "EventLogError", "Record", "TopicPartition", "partition_for"]
