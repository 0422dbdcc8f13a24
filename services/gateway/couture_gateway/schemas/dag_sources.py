from __future__ import annotations

from couture_gateway.schemas.common import ApiModel


class DAGSourceResponse(ApiModel):
    content: str | None
    dag_id: str
    version_number: int | None = None
    dag_display_name: str
