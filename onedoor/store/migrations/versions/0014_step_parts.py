"""step parts: the words a case's papers print apart from a step's note

case_events.parts (sealed JSON, domain.messages.StepParts): an agreement's terms and the date they are
performed by (调解协议书, 人民调解法 §29), a refusal's reason (不予受理告知书), a supervisor's order
(督办单), a dispatch's clocks (派单/转办单); and a supervised step's unit in body_code. The steps
written before hold them in their sealed note only: they are read out of it here, in the words the
workflow wrote them (workflows/dispute_case.py). What no note said stays unknown: an agreement's
date, a dispatch's clocks (its paper shows the dispatch's note instead).

Revision ID: 0014
Revises: 0013
"""

import json
import re

import sqlalchemy as sa
from alembic import op

from onedoor.store.reseal import migration_keys, numbered_rows, rewrite

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

events = numbered_rows('case_events', 'kind', 'note', 'parts', 'body_code')
# The notes' words (StepKind mediation, declined, supervised), as every step before this revision has them.
AGREEMENT = re.compile(r"^.*?：达成调解协议。(?P<terms>.+)$", re.S)
DECLINED = re.compile(r"^.*? 决定不予受理：(?P<reason>.+)$", re.S)
SUPERVISED = re.compile(r"^.*? 督办 (?P<unit>[0-9A-Za-z_-]{1,32})：(?P<order>.+)$", re.S)


def parts_of(kind: str, note: str) -> tuple[dict, str | None]:
    """The parts and the addressee a step's note says, by its kind (none for another kind or other words)."""
    pattern = {'mediation': AGREEMENT, 'declined': DECLINED, 'supervised': SUPERVISED}.get(kind)
    said = pattern and pattern.match(note)
    if not said:
        return {}, None
    found = said.groupdict()
    return {name: found[name] for name in ('terms', 'reason', 'order') if name in found}, found.get('unit')


def upgrade() -> None:
    op.add_column('case_events', sa.Column('parts', sa.Text(), nullable=True))
    keys = migration_keys()

    def read_out(row: sa.Row) -> dict:
        if row.kind not in ('mediation', 'declined', 'supervised'):
            return {}
        parts, unit = parts_of(row.kind, keys().open(row.note))
        if not parts:
            return {}
        # Every row rewritten gives the same columns (one statement for the batch): body_code too, None but for a supervised step.
        return {'parts': keys().seal(json.dumps(parts, ensure_ascii=False)), 'body_code': unit}

    rewrite(op.get_bind(), events, 'id', ['kind', 'note'], read_out)


def downgrade() -> None:
    op.execute("UPDATE case_events SET body_code = NULL WHERE kind = 'supervised'")
    with op.batch_alter_table('case_events') as batch:
        batch.drop_column('parts')
