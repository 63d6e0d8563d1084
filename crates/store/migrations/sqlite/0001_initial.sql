-- signet store schema, version 1 (SQLite).
-- Workflow values are JSON documents (`doc`) plus the columns the service filters on.

CREATE TABLE records (
    kind       TEXT    NOT NULL,
    org        TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    state      INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    product_id TEXT,
    requester  TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER,
    readers    TEXT    NOT NULL,
    approvers  TEXT    NOT NULL,
    doc        TEXT    NOT NULL,
    PRIMARY KEY (kind, org, id)
);

CREATE UNIQUE INDEX records_product_name ON records (org, name) WHERE kind = 'product';
CREATE INDEX records_by_created ON records (kind, org, created_at, id);
CREATE INDEX records_by_name ON records (kind, org, name);
CREATE INDEX records_by_expiry ON records (kind, expires_at) WHERE state IN (1, 2);

CREATE TABLE record_groups (
    org        TEXT NOT NULL,
    kind       TEXT NOT NULL,
    id         TEXT NOT NULL,
    role       TEXT NOT NULL,
    group_name TEXT NOT NULL,
    PRIMARY KEY (org, kind, id, role, group_name),
    FOREIGN KEY (kind, org, id) REFERENCES records (kind, org, id) ON DELETE CASCADE
);

CREATE TABLE audit_heads (
    org  TEXT    NOT NULL PRIMARY KEY,
    seq  INTEGER NOT NULL,
    hash TEXT    NOT NULL,
    at   INTEGER NOT NULL
);

CREATE TABLE audit_entries (
    org       TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    subject   TEXT    NOT NULL,
    details   TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL,
    PRIMARY KEY (org, seq)
);
