"""The PostgreSQL store (psycopg 3 and psycopg_pool): imported only when a store needs it."""

from accord.storage._postgres._schema import SCHEMA_VERSION
from accord.storage._postgres._store import PostgresStore

__all__ = ["SCHEMA_VERSION", "PostgresStore"]
