"""rate_counters: per-minute request and token counts shared by every server process

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rate_counters',
    sa.Column('subject', sa.String(length=80), nullable=False),
    sa.Column('minute', sa.BigInteger(), nullable=False),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('tokens', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('subject', 'minute')
    )


def downgrade() -> None:
    op.drop_table('rate_counters')
