"""The same table definitions and upserts render for PostgreSQL (asyncpg), the distributed backend."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateIndex, CreateTable

from couture_gateway.readmodels.rowset import KEYS
from couture_gateway.readmodels.store import upsert
from couture_gateway.readmodels.tables import metadata

POSTGRES: Dialect = sa.create_mock_engine("postgresql+asyncpg://", executor=None).dialect
TABLES = metadata.sorted_tables


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_every_table_and_index_renders_for_postgresql(table: sa.Table) -> None:
    ddl = str(CreateTable(table).compile(dialect=POSTGRES))

    assert f"CREATE TABLE {table.name}" in ddl
    for index in table.indexes:
        assert str(CreateIndex(index).compile(dialect=POSTGRES)).startswith("CREATE INDEX")


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_every_upsert_renders_for_postgresql_on_its_natural_key(table: sa.Table) -> None:
    sql = str(upsert("postgresql", table).compile(dialect=POSTGRES))

    assert f"ON CONFLICT ({', '.join(KEYS[table.name])})" in sql.replace('"', "")


def test_json_columns_are_jsonb_on_postgresql() -> None:
    ddl = str(CreateTable(metadata.tables["dag_version"]).compile(dialect=POSTGRES))

    assert "spec JSONB NOT NULL" in ddl


def test_an_unsupported_dialect_is_named() -> None:
    with pytest.raises(ValueError, match="not 'mysql'"):
        upsert("mysql", metadata.tables["pool"])
