"""The Kafka-side stream processors, run by one faust-streaming worker (``couture streams``).

This package holds what every processor shares (the faust app on the event log's cluster and
namespace, the log's topics as raw messages decoded by the log's own codec) and the worker that
composes them. The processors themselves live with the service whose pure code they fold:
``couture_gateway.streams`` (audit trail, task-duration statistics) and
``couture_scheduler.streams`` (SLA watch).
"""
