"""web chat history: the lines of each web chat (bot and person), kept on the server so a
reload or another device shows the conversation

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 19:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0004'
down_revision: Union[str, None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'webchatline',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('chat_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('mine', sa.Boolean(), nullable=False),
        sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('buttons', sa.JSON(), nullable=False),
        sa.Column('files', sa.JSON(), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('chat_id', 'key'),
    )


def downgrade() -> None:
    op.drop_table('webchatline')
