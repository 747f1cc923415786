"""monitoring alarms: the device registry, incidents (one open per alarm key), every alarm
state received, and the people who follow a ticket because they reported the same fault

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 20:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        'device',
        sa.Column('id', S(length=120), nullable=False),
        sa.Column('name', S(length=200), nullable=False),
        sa.Column('type', S(length=60), nullable=False),
        sa.Column('site', S(length=100), nullable=False),
        sa.Column('plot', S(length=100), nullable=False),
        sa.Column('parent', S(length=120), nullable=False),
        sa.Column('category', S(length=40), nullable=False),
        sa.Column('heartbeat_minutes', sa.Integer(), nullable=True),
        sa.Column('last_heartbeat', T(), nullable=True),
        sa.Column('registered', sa.Boolean(), nullable=False),
        sa.Column('updated_at', T(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('device') as batch:
        batch.create_index(batch.f('ix_device_parent'), ['parent'], unique=False)
    op.create_table(
        'incident',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', S(length=240), nullable=False),
        sa.Column('open_key', S(length=240), nullable=True),
        sa.Column('device', S(length=120), nullable=False),
        sa.Column('kind', S(length=120), nullable=False),
        sa.Column('source', S(length=20), nullable=False),
        sa.Column('severity', S(length=10), nullable=False),
        sa.Column('summary', S(), nullable=False),
        sa.Column('site', S(length=100), nullable=False),
        sa.Column('plot', S(length=100), nullable=False),
        sa.Column('category', S(length=40), nullable=False),
        sa.Column('state', S(length=10), nullable=False),
        sa.Column('firing', sa.Boolean(), nullable=False),
        sa.Column('flapping', sa.Boolean(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('flaps', sa.Integer(), nullable=False),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('first_at', T(), nullable=False),
        sa.Column('last_at', T(), nullable=False),
        sa.Column('received_at', T(), nullable=False),
        sa.Column('cleared_at', T(), nullable=True),
        sa.Column('paged_at', T(), nullable=True),
        sa.ForeignKeyConstraint(['parent_id'], ['incident.id'], ),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('open_key'),
    )
    with op.batch_alter_table('incident') as batch:
        for column in ('key', 'device', 'state', 'parent_id', 'ticket_id'):
            batch.create_index(batch.f(f'ix_incident_{column}'), [column], unique=False)
    op.create_table(
        'alarmrecord',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('at', T(), nullable=False),
        sa.Column('received_at', T(), nullable=False),
        sa.Column('firing', sa.Boolean(), nullable=False),
        sa.Column('severity', S(length=10), nullable=False),
        sa.Column('source', S(length=20), nullable=False),
        sa.Column('summary', S(length=1000), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('alarmrecord') as batch:
        batch.create_index(batch.f('ix_alarmrecord_incident_id'), ['incident_id'], unique=False)
    op.create_table(
        'ticketfollower',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('text', S(), nullable=False),
        sa.Column('at', T(), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('ticket_id', 'person_id'),
    )
    with op.batch_alter_table('ticketfollower') as batch:
        batch.create_index(batch.f('ix_ticketfollower_ticket_id'), ['ticket_id'], unique=False)
        batch.create_index(batch.f('ix_ticketfollower_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_table('ticketfollower')
    op.drop_table('alarmrecord')
    op.drop_table('incident')
    op.drop_table('device')
