"""value sets: a value_sets table, search keys and parent codes on concepts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

Hand-written because existing concepts need data: one value_sets row per value set already
present (source "builtin") and an accent-free search key computed from each label.
"""
import sqlalchemy as sa
from alembic import op

from rcp_app.core.text import search_key

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "value_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("oid", sa.String(length=64), nullable=True),
        sa.Column("version", sa.String(length=40), nullable=True),
        sa.Column("revision_date", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("imported_at", sa.DateTime(), nullable=True),
        sa.Column("retired_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("source IN ('builtin', 'import')", name=op.f("ck_value_sets_source_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_value_sets")),
        sa.UniqueConstraint("name", name=op.f("uq_value_sets_name")),
    )
    bind = op.get_bind()
    names = [row[0] for row in bind.execute(sa.text("SELECT DISTINCT value_set FROM concepts"))]
    for name in names:
        bind.execute(
            sa.text("INSERT INTO value_sets (name, source) VALUES (:name, 'builtin')"),
            {"name": name},
        )

    with op.batch_alter_table("concepts", schema=None) as batch_op:
        batch_op.alter_column("label", existing_type=sa.String(length=255), type_=sa.Text(),
                              existing_nullable=False)
        batch_op.add_column(sa.Column("search_key", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("parent_code", sa.String(length=64), nullable=True))

    rows = bind.execute(sa.text("SELECT id, label FROM concepts")).all()
    for concept_id, label in rows:
        bind.execute(
            sa.text("UPDATE concepts SET search_key = :key WHERE id = :id"),
            {"key": search_key(label), "id": concept_id},
        )

    with op.batch_alter_table("concepts", schema=None) as batch_op:
        batch_op.alter_column("search_key", server_default=None, existing_type=sa.Text(),
                              existing_nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_concepts_value_set_value_sets"), "value_sets", ["value_set"], ["name"],
            ondelete="RESTRICT",
        )


def downgrade():
    with op.batch_alter_table("concepts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_concepts_value_set_value_sets"), type_="foreignkey")
        batch_op.drop_column("parent_code")
        batch_op.drop_column("search_key")
        batch_op.alter_column("label", existing_type=sa.Text(), type_=sa.String(length=255),
                              existing_nullable=False)
    op.drop_table("value_sets")
