"""The schema comes from the migrations; they must produce exactly the models' schema."""

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from rcp_app.extensions import db
from tests.conftest import make_app
from tests.support.databases import temporary_database


@pytest.fixture
def fresh_app(tmp_path_factory):
    with temporary_database(os.environ.get("RCP_TEST_DATABASE_URL"), tmp_path_factory) as url:
        app = make_app(url)
        yield app
        with app.app_context():
            db.engine.dispose()


def test_migrations_produce_the_models_schema(fresh_app):
    with fresh_app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            differences = compare_metadata(context, db.metadata)
    assert differences == [], f"models and migrations differ: {differences}"


def test_migrations_downgrade_to_nothing_and_up_again(fresh_app):
    with fresh_app.app_context():
        upgrade()
        downgrade(revision="base")
        with db.engine.connect() as connection:
            tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()
        with db.engine.connect() as connection:
            assert "audit_log" in inspect(connection).get_table_names()


def test_migrations_create_every_check_constraint(fresh_app):
    """Alembic's comparison ignores CHECK constraints; compare their names table by table."""
    from sqlalchemy import CheckConstraint

    with fresh_app.app_context():
        upgrade()
        inspector = inspect(db.engine)
        for table in db.metadata.sorted_tables:
            expected = {
                c.name for c in table.constraints if isinstance(c, CheckConstraint) and c.name
            }
            actual = {c["name"] for c in inspector.get_check_constraints(table.name)}
            assert expected <= actual, f"{table.name}: missing {expected - actual}"
