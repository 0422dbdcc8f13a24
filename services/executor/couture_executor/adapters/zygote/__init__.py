"""The fork server ("zygote") and the task processes it forks.

The zygote is a separate interpreter started with ``subprocess`` (never forked from the threaded,
asyncio executor process) that has already imported the SDK and its dependencies and caches loaded
DAG files per version. Each try is a ``fork`` of it, so a short task costs milliseconds instead of
an interpreter start and a DAG import.
"""
