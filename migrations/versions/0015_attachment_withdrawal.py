"""attachment withdrawal: who withdrew a case attachment, when and why

Hand-written. A withdrawn attachment keeps its row and its file (the audit may need them); the
three columns are set together or not at all (CHECK constraint).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

WITHDRAWAL_COMPLETE = (
    "(withdrawn_at IS NULL AND withdrawn_by_id IS NULL AND withdrawal_reason IS NULL)"
    " OR (withdrawn_at IS NOT NULL AND withdrawn_by_id IS NOT NULL"
    " AND withdrawal_reason IS NOT NULL AND withdrawal_reason <> '')"
)


def upgrade():
    with op.batch_alter_table('case_attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('withdrawal_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_case_attachments_withdrawn_by_id_users'),
            'users', ['withdrawn_by_id'], ['id'], ondelete='RESTRICT',
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_case_attachments_withdrawal_complete'), WITHDRAWAL_COMPLETE
        )


def downgrade():
    with op.batch_alter_table('case_attachments', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('ck_case_attachments_withdrawal_complete'), type_='check'
        )
        batch_op.drop_constraint(
            batch_op.f('fk_case_attachments_withdrawn_by_id_users'), type_='foreignkey'
        )
        batch_op.drop_column('withdrawal_reason')
        batch_op.drop_column('withdrawn_by_id')
        batch_op.drop_column('withdrawn_at')
