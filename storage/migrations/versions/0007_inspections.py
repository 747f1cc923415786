"""scheduled inspections, their runs and readings

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:10:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0007'
down_revision: Union[str, None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        'inspectionrun',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_key', S(length=40), nullable=False),
        sa.Column('plan_name', S(length=200), nullable=False),
        sa.Column('site', S(length=100), nullable=False),
        sa.Column('due_at', T(), nullable=False),
        sa.Column('deadline', T(), nullable=False),
        sa.Column('assignee_id', sa.Integer(), nullable=True),
        sa.Column('state', S(length=20), nullable=False),
        sa.Column('items', sa.JSON(), nullable=False),
        sa.Column('current_item', sa.Integer(), nullable=False),
        sa.Column('started_at', T(), nullable=True),
        sa.Column('finished_at', T(), nullable=True),
        sa.ForeignKeyConstraint(['assignee_id'], ['person.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('plan_key', 'due_at'),
    )
    with op.batch_alter_table('inspectionrun') as batch:
        for column in ('plan_key', 'assignee_id', 'state'):
            batch.create_index(batch.f(f'ix_inspectionrun_{column}'), [column], unique=False)
    op.create_table(
        'inspectionreading',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('item_key', S(length=40), nullable=False),
        sa.Column('kind', S(length=20), nullable=False),
        sa.Column('value', S(length=1000), nullable=False),
        sa.Column('number', sa.Float(), nullable=True),
        sa.Column('photo', sa.JSON(), nullable=True),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('at', T(), nullable=False),
        sa.ForeignKeyConstraint(['run_id'], ['inspectionrun.id'], ),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('run_id', 'item_key'),
    )
    with op.batch_alter_table('inspectionreading') as batch:
        for column in ('run_id', 'ticket_id'):
            batch.create_index(batch.f(f'ix_inspectionreading_{column}'), [column],
                               unique=False)


def downgrade() -> None:
    op.drop_table('inspectionreading')
    op.drop_table('inspectionrun')
