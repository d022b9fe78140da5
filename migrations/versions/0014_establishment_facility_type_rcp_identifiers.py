"""establishment facility type (JDV_J02) and the national identifiers of an RCP (FRCP encounter)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05

Existing establishments get SA01 « Etablissement public de santé », the category every fiche
declared until now (a constant of the XDM builder): nothing already sent changes meaning, and
the administrator corrects the private ones in the establishment form. The RCP identifiers stay
empty until the regional network (DSRC) has assigned them; fiches then say they are unknown.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('establishments', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('facility_type_code', sa.String(length=16), server_default='SA01', nullable=False)
        )

    with op.batch_alter_table('rcps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('network_id', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('manager_id', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('registry_id', sa.String(length=16), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_rcps_registry_id'), ['registry_id'])


def downgrade():
    with op.batch_alter_table('rcps', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_rcps_registry_id'), type_='unique')
        batch_op.drop_column('registry_id')
        batch_op.drop_column('manager_id')
        batch_op.drop_column('network_id')

    with op.batch_alter_table('establishments', schema=None) as batch_op:
        batch_op.drop_column('facility_type_code')
