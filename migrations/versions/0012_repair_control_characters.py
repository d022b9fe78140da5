"""repair control characters: stored text follows the input rule of rcp_app/core/text.py

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

Hand-written data migration. Before the input rule, a vertical tab (Word's manual line break),
a form feed or another control character could be stored in any text field; lxml then refuses
to build the CDA and the decision can never be signed. Every String/Text column of every table
(taken from the database itself, so no column is forgotten) is rewritten as the rule would have
accepted it: "\\x0b" and "\\x0c" become line breaks, CR LF and lone CR become LF, the other
forbidden characters (C0 controls but tab and line feed, DEL, C1, lone surrogates, Unicode
non-characters) are removed.

Write-once tables are left alone: the audit log and the signed fiche versions and documents are
append-only (triggers of 0002 and 0009) and their content is covered by hashes and signatures;
they were produced from the text as it was.

The rule is written out here as it was at this revision, in batches of primary keys.
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

WRITE_ONCE = {"audit_log", "fiche_versions", "fiche_documents", "alembic_version"}
BATCH = 500
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c]")
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17))
    + "]"
)


def repaired(value):
    if not isinstance(value, str):
        return value
    return _FORBIDDEN.sub("", _LINE_BREAKS.sub("\n", value))


def _text_tables(bind):
    """(table, primary key columns, text columns) for every table the repair concerns."""
    inspector = sa.inspect(bind)
    for name in sorted(set(inspector.get_table_names()) - WRITE_ONCE):
        texts = [c["name"] for c in inspector.get_columns(name) if isinstance(c["type"], sa.String)]
        keys = inspector.get_pk_constraint(name)["constrained_columns"]
        if not texts:
            continue
        if not keys:
            raise RuntimeError(f"{name}: no primary key, cannot repair its text in batches")
        columns = [sa.column(c) for c in dict.fromkeys([*keys, *texts])]
        yield sa.table(name, *columns), keys, texts


def _repair_table(bind, table, keys, texts) -> None:
    key_columns = [table.c[k] for k in keys]
    last = None
    while True:
        query = sa.select(*table.c).order_by(*key_columns).limit(BATCH)
        if last is not None:
            query = query.where(sa.tuple_(*key_columns) > sa.tuple_(*last))
        rows = bind.execute(query).mappings().all()
        if not rows:
            return
        for row in rows:
            changes = {c: repaired(row[c]) for c in texts if repaired(row[c]) != row[c]}
            if changes:
                match = sa.and_(*(table.c[k] == row[k] for k in keys))
                bind.execute(table.update().where(match).values(**changes))
        last = [rows[-1][k] for k in keys]


def upgrade():
    bind = op.get_bind()
    for table, keys, texts in list(_text_tables(bind)):
        _repair_table(bind, table, keys, texts)


def downgrade():
    # The removed characters are not kept anywhere: nothing to restore.
    pass
