from __future__ import annotations

from datetime import datetime

from couture_gateway.schemas.common import ApiModel


class ImportErrorResponse(ApiModel):
    import_error_id: int
    timestamp: datetime
    filename: str
    bundle_name: str | None = None
    stack_trace: str


class ImportErrorCollectionResponse(ApiModel):
    import_errors: list[ImportErrorResponse]
    total_entries: int
