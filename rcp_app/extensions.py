"""Flask extensions, created once and bound to the app in create_app()."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# A naming convention makes constraint names deterministic, so Alembic migrations are the
# same on SQLite and PostgreSQL and constraints can be dropped by name later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Loaded rows stay usable after a commit: the request commits once, after the view has
# rendered its page (core/resilience.py), and a page may be rendered after a phase commit.
# Outside a request (worker, CLI) a commit still expires them (core/transactions.py).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection, _record):
    """Give SQLite real transactions, foreign keys and a busy timeout.

    pysqlite's own transaction handling does not begin a transaction before SELECT and breaks
    SAVEPOINT; the SQLAlchemy documentation's recipe hands control back to SQLAlchemy.
    """
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


@event.listens_for(Engine, "connect")
def _psycopg_connect(dbapi_connection, _record):
    """PostgreSQL: plan every statement with its actual parameters.

    psycopg prepares a statement on the server after five executions, and PostgreSQL may then
    reuse a generic plan built without the parameters. On skewed data that plan can be very
    wrong: for "LIKE 'DUP%'" it cannot use the prefix indexes at all, and for "created by this
    user" it assumes an average user (a sequential scan that was 7 times slower for some
    physicians in bench/). Planning costs well under a millisecond here.
    """
    if type(dbapi_connection).__module__.startswith("psycopg"):
        dbapi_connection.prepare_threshold = None


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    if conn.dialect.name != "sqlite":
        return
    from .core.transactions import wants_write_lock

    # A transaction meant to write takes the write lock up front (IMMEDIATE): no failed
    # read-to-write upgrade later. Reads (GET requests) begin DEFERRED and never take it, so
    # they neither wait for writers nor make writers wait (core/transactions.py).
    write = wants_write_lock()
    conn.info["rcp_write"] = write
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@event.listens_for(Engine, "before_cursor_execute")
def _sqlite_note_writes(conn, _cursor, statement, _parameters, _context, _executemany):
    """A DEFERRED transaction that writes anyway has upgraded: its audit rows follow it."""
    if (
        conn.dialect.name == "sqlite"
        and not conn.info.get("rcp_write")
        and statement.lstrip()[:7].upper().startswith(_WRITE_VERBS)
    ):
        conn.info["rcp_write"] = True


_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")
