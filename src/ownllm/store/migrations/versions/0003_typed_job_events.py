"""typed job events

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('job_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('type', sa.String(length=16), nullable=False, server_default='message'))
    # events written before types existed were told apart by their message text
    op.execute("UPDATE job_events SET type = 'step' WHERE message = 'step'")
    op.execute("UPDATE job_events SET type = 'checkpoint' WHERE message = 'checkpoint saved'")


def downgrade() -> None:
    with op.batch_alter_table('job_events', schema=None) as batch_op:
        batch_op.drop_column('type')
