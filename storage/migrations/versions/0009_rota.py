"""the on-call rota: shift swaps agreed in chat (the weekly shifts and overrides are a file)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 21:10:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0009'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        'shiftswap',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site', S(length=100), nullable=False),
        sa.Column('starts_at', T(), nullable=False),
        sa.Column('ends_at', T(), nullable=False),
        sa.Column('from_id', sa.Integer(), nullable=False),
        sa.Column('to_id', sa.Integer(), nullable=False),
        sa.Column('state', S(length=20), nullable=False),
        sa.Column('message_key', S(length=160), nullable=False),
        sa.Column('asked_at', T(), nullable=False),
        sa.Column('answered_at', T(), nullable=True),
        sa.ForeignKeyConstraint(['from_id'], ['person.id'], ),
        sa.ForeignKeyConstraint(['to_id'], ['person.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('shiftswap') as batch:
        batch.create_index(batch.f('ix_shiftswap_from_id'), ['from_id'], unique=False)
        batch.create_index(batch.f('ix_shiftswap_to_id'), ['to_id'], unique=False)
        batch.create_index('ix_shiftswap_state_starts_at', ['state', 'starts_at'],
                           unique=False)


def downgrade() -> None:
    op.drop_table('shiftswap')
