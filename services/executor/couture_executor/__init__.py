"""The executor service: runs each task try in its own process and reports what happened on the log."""

from couture_executor.adapters.dag_files import BlobDagFileStore, DagFileMismatchError, DagFileStore
from couture_executor.app import ExecutorService

__all__ = ["BlobDagFileStore", "DagFileMismatchError", "DagFileStore", "ExecutorService"]
