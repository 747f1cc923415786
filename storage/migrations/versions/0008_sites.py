"""managers and coordinators scoped to sites

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:10:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    # everyone already here keeps today's reach: an empty scope is every site
    with op.batch_alter_table('person') as batch:
        batch.add_column(sa.Column('scope', sa.JSON(), nullable=False, server_default='[]'))
        batch.add_column(sa.Column('title', S(length=40), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('person') as batch:
        batch.drop_column('title')
        batch.drop_column('scope')
