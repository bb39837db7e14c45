"""PostgreSQL (asyncpg) and MongoDB (PyMongo) calls made inside a trace are CLIENT spans
with the database conventions, and never carry parameters or documents."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from opentelemetry import trace
from pymongo import AsyncMongoClient

from cauce_runtime import ServiceSettings, Telemetry, setup_telemetry
from cauce_runtime.telemetry._db_spans import sql_summary

PHONE = "573001234567"


@pytest.fixture
def telemetry(tmp_path: Path) -> Iterator[Telemetry]:
    installed = setup_telemetry(
        ServiceSettings(environment="test", span_file=tmp_path / "spans.jsonl", _env_file=None)  # type: ignore[call-arg]
    )
    yield installed
    installed.shutdown()  # later tests' spans are not written here


def spans_of(telemetry: Telemetry, path: Path, root: trace.Span) -> list[dict[str, Any]]:
    assert telemetry.force_flush()
    trace_id = f"{root.get_span_context().trace_id:032x}"
    return [
        span
        for span in map(json.loads, path.read_text().splitlines())
        if span["trace_id"] == trace_id and span["kind"] == "CLIENT"
    ]


def test_sql_summaries_name_the_operation_and_the_first_table() -> None:
    assert sql_summary("SELECT * FROM notifier.messages WHERE id = $1") == (
        "SELECT",
        "notifier.messages",
    )
    assert sql_summary("  insert into payments.link_requests AS l (k) VALUES ($1)") == (
        "INSERT",
        "payments.link_requests",
    )
    assert sql_summary("UPDATE crm.leads SET x = 1") == ("UPDATE", "crm.leads")
    assert sql_summary("WITH c AS (UPDATE notifier.messages SET a = 1) SELECT 1") == (
        "WITH",
        "notifier.messages",
    )
    assert sql_summary("SELECT 1") == ("SELECT", None)


async def test_asyncpg_queries_in_a_trace_are_client_spans(
    telemetry: Telemetry, tmp_path: Path, database_url: str
) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    assert pool is not None
    try:
        await pool.execute("CREATE TABLE contacts (phone text PRIMARY KEY)")  # outside a trace
        with trace.get_tracer("test").start_as_current_span("handle") as root:
            async with pool.acquire() as connection, connection.transaction():
                await connection.execute("INSERT INTO contacts (phone) VALUES ($1)", PHONE)
            assert await pool.fetchval("SELECT count(*) FROM contacts WHERE phone = $1", PHONE)
            with pytest.raises(asyncpg.UniqueViolationError):
                await pool.execute("INSERT INTO contacts (phone) VALUES ($1)", PHONE)
    finally:
        await pool.close()

    spans = spans_of(telemetry, tmp_path / "spans.jsonl", root)
    # no BEGIN/COMMIT, no pool reset, no CREATE TABLE (it ran outside the trace)
    assert [s["name"] for s in spans] == [
        "INSERT contacts",
        "SELECT contacts",
        "INSERT contacts",
    ]
    insert, select, failed = (s["attributes"] for s in spans)
    assert insert["db.system.name"] == "postgresql"
    assert insert["db.operation.name"] == "INSERT"
    assert insert["db.collection.name"] == "contacts"
    assert insert["db.namespace"] == database_url.rsplit("/", 1)[1]
    assert insert["server.address"] and insert["server.port"]
    assert select["db.query.summary"] == "SELECT contacts"
    assert failed["error.type"] == "UniqueViolationError"
    assert failed["db.response.status_code"] == "23505"
    assert spans[2]["status"]["code"] == "ERROR"
    assert PHONE not in json.dumps(spans)


async def test_mongodb_commands_in_a_trace_are_client_spans(
    telemetry: Telemetry, tmp_path: Path, mongo_url: str
) -> None:
    database = f"dbspans_{uuid.uuid4().hex[:8]}"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    try:
        collection = client[database]["conversations"]
        with trace.get_tracer("test").start_as_current_span("turn") as root:
            await collection.insert_one({"phone": PHONE, "text": "hola"})
            assert await collection.find_one({"phone": PHONE}) is not None
        await collection.count_documents({})  # outside a trace: no span
    finally:
        await client.drop_database(database)
        await client.close()

    spans = spans_of(telemetry, tmp_path / "spans.jsonl", root)
    assert [s["name"] for s in spans] == ["insert conversations", "find conversations"]
    attributes = spans[0]["attributes"]
    assert attributes["db.system.name"] == "mongodb"
    assert attributes["db.namespace"] == database
    assert attributes["db.collection.name"] == "conversations"
    assert attributes["db.operation.name"] == "insert"
    assert all(s["parent_span_id"] == f"{root.get_span_context().span_id:016x}" for s in spans)
    assert PHONE not in json.dumps(spans) and "hola" not in json.dumps(spans)


def test_database_spans_can_be_turned_off(tmp_path: Path) -> None:
    """``CAUCE_TRACE_DATABASE_CALLS=false``: asyncpg is left as it is (checked in a fresh
    process: instrumentation is process-wide)."""
    script = (
        "from asyncpg.connection import Connection\n"
        "from cauce_runtime import ServiceSettings\n"
        "from cauce_runtime import setup_telemetry\n"
        "import sys\n"
        f"setup_telemetry(ServiceSettings(_env_file=None, span_file={str(tmp_path / 's.jsonl')!r},"
        " trace_database_calls=sys.argv[1] == 'on'))\n"
        "print(getattr(Connection.fetch, '__cauce_traced__', False))\n"
    )
    outputs = [
        subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", script, switch], capture_output=True, text=True, check=True
        ).stdout.strip()
        for switch in ("on", "off")
    ]
    assert outputs == ["True", "False"]
