-- Messaging channels (chat, SMS, WhatsApp, web chat): conversations escalated by a bot become
-- cases, agents' replies go back through each channel's connector.

-- Customer messages no agent has read yet (reset by an agent's reply or by marking it read).
ALTER TABLE cases ADD COLUMN unread_message_count BIGINT NOT NULL DEFAULT 0;

-- The case an external conversation feeds: one per organization, channel and conversation id.
-- A follow-up of a closed case takes the conversation over (case_id moves to it).
CREATE TABLE conversations (
    org_id TEXT NOT NULL REFERENCES organizations(id),
    channel TEXT NOT NULL,
    external_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, channel, external_id)
);
CREATE INDEX conversations_case ON conversations(org_id, case_id);

-- Where an organization's agents' replies on a channel are POSTed. The secret signs every
-- delivery, so it is kept as given (as webhook secrets are).
CREATE TABLE channel_connectors (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    channel TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (org_id, channel)
);

-- Where each organization's reply dispatcher stands in its change feed (as webhook_cursors).
CREATE TABLE channel_cursors (
    org_id TEXT PRIMARY KEY REFERENCES organizations(id),
    txid BIGINT NOT NULL,
    seq BIGINT NOT NULL
);

-- The outbox of replies to connectors: claimed, retried and logged as webhook_deliveries are.
CREATE TABLE channel_deliveries (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    connector_id TEXT NOT NULL REFERENCES channel_connectors(id) ON DELETE CASCADE,
    event_seq BIGINT NOT NULL,
    case_id TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    response_status BIGINT,
    last_error TEXT,
    claim TEXT,
    created_at BIGINT NOT NULL,
    last_attempt_at BIGINT,
    next_attempt_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX channel_deliveries_case_log ON channel_deliveries(org_id, case_id, created_at, id);
CREATE INDEX channel_deliveries_due ON channel_deliveries(next_attempt_at) WHERE state = 'pending';
CREATE INDEX channel_deliveries_order ON channel_deliveries(connector_id, case_id, seq) WHERE state = 'pending';
