"""spare parts used on tickets

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 21:10:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        'partusage',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('code', S(length=20), nullable=False),
        sa.Column('name', S(length=60), nullable=False),
        sa.Column('name_en', S(length=60), nullable=False),
        sa.Column('unit', S(length=10), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('engineer_id', sa.Integer(), nullable=True),
        sa.Column('recorded_at', T(), nullable=False),
        sa.ForeignKeyConstraint(['engineer_id'], ['person.id'], ),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('partusage') as batch:
        for column in ('ticket_id', 'code', 'recorded_at'):
            batch.create_index(batch.f(f'ix_partusage_{column}'), [column], unique=False)


def downgrade() -> None:
    op.drop_table('partusage')
