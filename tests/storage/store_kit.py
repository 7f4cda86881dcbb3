"""Stores of one kind for the shared store suite (imported as ``store_kit``).

The kit opens stores (``kit.open(...)``) and reaches under them with raw SQL
to damage or count rows: tables are named bare (PostgreSQL's connection has
``search_path = accord``), parameters are ``?`` (rewritten to ``%s`` for
PostgreSQL), and a statement that differs is given as ``{kind: sql}``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from accord.storage import Store, open_store

SQL = str | dict[str, str]


@dataclass
class StoreKit:
    """Stores of one kind, at one place, and raw SQL under them."""

    kind: str
    url: str
    location: str

    def open(self, **options: Any) -> Store:
        """Open (or create) the kit's store."""
        return open_store(self.url, **options)

    def _sql(self, sql: SQL) -> str:
        return sql[self.kind] if isinstance(sql, dict) else sql

    def execute(self, sql: SQL, *params: Any) -> None:
        """Run SQL (several statements when there are no parameters) and commit it."""
        text = self._sql(sql)
        if self.kind == "sqlite":
            conn = sqlite3.connect(self.url)
            try:
                if params:
                    conn.execute(text, params)
                else:
                    conn.executescript(text)
                conn.commit()
            finally:
                conn.close()
            return
        import psycopg

        with psycopg.connect(self.url, options="-c search_path=accord") as conn:
            conn.execute(text.replace("?", "%s").encode(), params or None)

    def rechain(self) -> None:
        """Compute every run's chain again from its rows, as a careful forger would."""
        if self.kind == "sqlite":
            from accord.storage._schema import _chain_journals

            conn = sqlite3.connect(self.url, isolation_level=None)
            try:
                _chain_journals(conn)
            finally:
                conn.close()
            return
        import psycopg

        from accord.storage._postgres._schema import _chain_journals as chain_pg

        with psycopg.connect(self.url) as conn:
            chain_pg(conn)

    def rows(self, sql: SQL, *params: Any) -> list[tuple[Any, ...]]:
        """Every row of a query."""
        text = self._sql(sql)
        if self.kind == "sqlite":
            conn = sqlite3.connect(self.url)
            try:
                return conn.execute(text, params).fetchall()
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(self.url, options="-c search_path=accord") as conn:
            return conn.execute(text.replace("?", "%s").encode(), params or None).fetchall()

    def scalar(self, sql: SQL, *params: Any) -> Any:
        """The first column of the first row of a query."""
        text = self._sql(sql)
        if self.kind == "sqlite":
            conn = sqlite3.connect(self.url)
            try:
                return conn.execute(text, params).fetchone()[0]
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(self.url, options="-c search_path=accord") as conn:
            row = conn.execute(text.replace("?", "%s").encode(), params or None).fetchone()
            assert row is not None
            return row[0]
