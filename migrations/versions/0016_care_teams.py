"""care teams: coordinator scopes, exceptional accesses, the dpo role, sharing objection

Hand-written. The users' role CHECK constraint gains 'dpo' (SQLite rebuilds the table: see
migrations/env.py, foreign keys are off meanwhile so no referencing row is touched).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('admin', 'coordinator', 'physician', 'gp')"
NEW_ROLES = "role IN ('admin', 'coordinator', 'physician', 'gp', 'dpo')"
SHARED_WITH_RCP = "submitted_at IS NOT NULL AND NOT patient_sharing_objection"
REASONS = "reason IN ('emergency', 'opinion', 'rcp_preparation', 'other')"


def _role_check(sql):
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_users_role_known'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_users_role_known'), sql)


def upgrade():
    _role_check(NEW_ROLES)
    op.create_table('coordinator_scopes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('rcp_id', sa.Integer(), nullable=True),
    sa.Column('establishment_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(rcp_id IS NULL) <> (establishment_id IS NULL)', name=op.f('ck_coordinator_scopes_rcp_or_establishment')),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishments.id'], name=op.f('fk_coordinator_scopes_establishment_id_establishments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rcp_id'], ['rcps.id'], name=op.f('fk_coordinator_scopes_rcp_id_rcps'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_coordinator_scopes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coordinator_scopes')),
    sa.UniqueConstraint('user_id', 'rcp_id', 'establishment_id', name=op.f('uq_coordinator_scopes_user_id_rcp_id_establishment_id'))
    )
    with op.batch_alter_table('coordinator_scopes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coordinator_scopes_user_id'), ['user_id'], unique=False)

    op.create_table('exceptional_accesses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('reason_text', sa.Text(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=False),
    sa.CheckConstraint(REASONS, name=op.f('ck_exceptional_accesses_reason_known')),
    sa.CheckConstraint("reason <> 'other' OR reason_text <> ''", name=op.f('ck_exceptional_accesses_other_has_text')),
    sa.CheckConstraint('expires_at > opened_at', name=op.f('ck_exceptional_accesses_expires_after_opening')),
    sa.CheckConstraint('(reviewed_at IS NULL) = (reviewed_by_id IS NULL)', name=op.f('ck_exceptional_accesses_review_complete')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_exceptional_accesses_patient_id_patients'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_exceptional_accesses_reviewed_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_exceptional_accesses_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exceptional_accesses'))
    )
    with op.batch_alter_table('exceptional_accesses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exceptional_accesses_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_exceptional_accesses_user_patient', ['user_id', 'patient_id', 'expires_at'], unique=False)
        batch_op.create_index('ix_exceptional_accesses_review', ['reviewed_at', 'opened_at'], unique=False)

    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_patients_created_by_id_users'), 'users', ['created_by_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('patient_sharing_objection', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('patient_sharing_objection', server_default=None, existing_type=sa.Boolean(), existing_nullable=False)


    # The care team's paths, read per patient (rcp_app/access/care_team.py).
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agenda_items_case_id'), ['case_id'], unique=False)
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.create_index('ix_patients_recent', ['updated_at', 'id'], unique=False)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_created_by_patient', ['created_by_id', 'patient_id'], unique=False)
        batch_op.create_index('ix_cases_requester_patient', ['requester_id', 'patient_id'], unique=False)
        batch_op.create_index('ix_cases_rcp_patient_shared', ['rcp_id', 'patient_id'], unique=False, postgresql_where=sa.text(SHARED_WITH_RCP), sqlite_where=sa.text(SHARED_WITH_RCP))
        batch_op.create_index('ix_cases_rcp_patient_submitted', ['rcp_id', 'patient_id'], unique=False, postgresql_where=sa.text('submitted_at IS NOT NULL'), sqlite_where=sa.text('submitted_at IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        for name in ('ix_cases_rcp_patient_submitted', 'ix_cases_rcp_patient_shared',
                     'ix_cases_requester_patient', 'ix_cases_created_by_patient'):
            batch_op.drop_index(name)
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_index('ix_patients_recent')
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agenda_items_case_id'))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('patient_sharing_objection')
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_patients_created_by_id_users'), type_='foreignkey')
        batch_op.drop_column('created_by_id')
    op.drop_table('exceptional_accesses')
    op.drop_table('coordinator_scopes')
    op.execute("DELETE FROM users WHERE role = 'dpo'")
    _role_check(OLD_ROLES)
