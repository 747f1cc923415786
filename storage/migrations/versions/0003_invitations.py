"""who may open tickets: people carry whether they are approved (everyone already here is);
invitations (only the code's hash) and managers' approvals of strangers; Telegram identities
that were registered from a group chat are reached in their private chat again

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08 10:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('person') as batch:
        batch.add_column(sa.Column('approved', sa.Boolean(), nullable=False,
                                   server_default=sa.true()))
    op.create_table(
        'invitation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('uses_left', sa.Integer(), nullable=False),
        sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by'], ['person.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code_hash'),
    )
    op.create_table(
        'approval',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('reminded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['decided_by'], ['person.id'], ),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('person_id'),
    )
    with op.batch_alter_table('approval') as batch:
        batch.create_index(batch.f('ix_approval_state'), ['state'], unique=False)
    # A person who registered from a Telegram group got the group (a negative chat id) as
    # where to reach them; a Telegram user's private chat has the user's own id.
    op.execute(sa.text(
        "UPDATE chatidentity SET chat_id = external_user_id "
        "WHERE channel = 'telegram' AND chat_id LIKE '-%'"
    ))


def downgrade() -> None:
    with op.batch_alter_table('approval') as batch:
        batch.drop_index(batch.f('ix_approval_state'))
    op.drop_table('approval')
    op.drop_table('invitation')
    with op.batch_alter_table('person') as batch:
        batch.drop_column('approved')
