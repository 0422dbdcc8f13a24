"""The asyncio side of the executor: the per-try lifecycle and the task processes' runtime service."""
