"""self-service attempts record which article solved the problem; knowledge drafts say
whether a reporter may follow them alone

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 16:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('selfserviceattempt') as batch:
        batch.add_column(sa.Column('solved_article', sqlmodel.sql.sqltypes.AutoString(length=120),
                                   nullable=False, server_default=''))
    with op.batch_alter_table('kbdraft') as batch:
        batch.add_column(sa.Column('reporter_safe', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('kbdraft') as batch:
        batch.drop_column('reporter_safe')
    with op.batch_alter_table('selfserviceattempt') as batch:
        batch.drop_column('solved_article')
