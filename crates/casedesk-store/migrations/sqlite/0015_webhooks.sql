-- Webhooks through a transactional outbox. Case events are already written in the same
-- transaction as each change (case_events); the dispatcher reads them after a per-organization
-- cursor in feed order and, in one transaction, writes one delivery per subscribed webhook and
-- moves the cursor. Delivery workers claim due deliveries; a claim pushes next_attempt_at to the
-- end of its lease and records `claim`, so an instance that dies mid-attempt loses its claim
-- when the lease runs out.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    description TEXT NOT NULL,
    -- Kept as given: every delivery is signed with it (HMAC needs the secret itself).
    secret TEXT NOT NULL,
    active INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    failing_since INTEGER,
    disabled_at INTEGER,
    disabled_reason TEXT
);
CREATE INDEX webhooks_org ON webhooks(org_id, created_at, id);

-- Where each organization's dispatcher stands in its change feed: (txid, seq) of the last
-- event dispatched. Made when the organization's first webhook is, at the feed's head.
CREATE TABLE webhook_cursors (
    org_id TEXT PRIMARY KEY REFERENCES organizations(id),
    txid INTEGER NOT NULL,
    seq INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_seq INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    case_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    response_status INTEGER,
    last_error TEXT,
    claim TEXT,
    created_at INTEGER NOT NULL,
    last_attempt_at INTEGER,
    next_attempt_at INTEGER NOT NULL,
    delivered_at INTEGER
);
CREATE INDEX webhook_deliveries_log ON webhook_deliveries(webhook_id, created_at, id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE state = 'pending';
-- "Is an earlier delivery of this case to this webhook still pending?" (order per case).
CREATE INDEX webhook_deliveries_case ON webhook_deliveries(webhook_id, case_id, seq) WHERE state = 'pending';
