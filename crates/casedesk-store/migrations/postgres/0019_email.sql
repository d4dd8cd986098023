-- Email in and out.
--
-- mail_settings: an organization's outgoing SMTP server and default sending address.
-- mailboxes: the addresses mail comes in to, each mapped to a queue; a queue's mailbox is also
-- the address its replies go out from.
-- email_messages: every message in either direction. An inbound message is recorded (its raw
-- bytes in the file store) before anything is made of it, so nothing received is ever lost, and
-- its Message-ID makes a redelivery recognisable. Outbound messages are the outbox: the mail
-- dispatcher turns each customer-facing reply in the change feed into one queued row, in the
-- same transaction that moves its cursor; senders claim due rows with a lease.
CREATE TABLE mail_settings (
    org_id TEXT PRIMARY KEY REFERENCES organizations(id),
    smtp_host TEXT,
    smtp_port BIGINT,
    smtp_security TEXT NOT NULL,
    smtp_username TEXT,
    -- Kept as given: SMTP AUTH needs the password itself. Never returned by the API.
    smtp_password TEXT,
    from_address TEXT,
    from_name TEXT,
    updated_at BIGINT NOT NULL
);

CREATE TABLE mail_cursors (
    org_id TEXT PRIMARY KEY REFERENCES organizations(id),
    txid BIGINT NOT NULL,
    seq BIGINT NOT NULL
);

CREATE TABLE mailboxes (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    address TEXT NOT NULL,
    name TEXT,
    queue_id TEXT REFERENCES case_queues(id),
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, address)
);
CREATE INDEX mailboxes_org ON mailboxes(org_id, created_at, id);

CREATE TABLE email_messages (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    direction TEXT NOT NULL,
    message_id TEXT NOT NULL,
    case_id TEXT,
    comment_id TEXT,
    from_address TEXT NOT NULL,
    from_name TEXT,
    to_addresses TEXT NOT NULL,
    cc_addresses TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT,
    in_reply_to TEXT,
    refs TEXT NOT NULL,
    file_ids TEXT NOT NULL,
    raw_sha256 TEXT,
    size BIGINT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    claim TEXT,
    next_attempt_at BIGINT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX email_messages_message_id ON email_messages(org_id, message_id);
CREATE INDEX email_messages_case ON email_messages(case_id, seq);
CREATE INDEX email_messages_comment ON email_messages(comment_id);
CREATE INDEX email_messages_state ON email_messages(org_id, state, seq);
CREATE INDEX email_messages_raw ON email_messages(raw_sha256);
CREATE INDEX email_messages_due ON email_messages(next_attempt_at) WHERE state = 'queued';
-- What /metrics counts, without reading the message log.
CREATE INDEX email_messages_failed ON email_messages(org_id) WHERE state = 'failed';
CREATE INDEX email_messages_quarantined ON email_messages(org_id) WHERE state = 'quarantined';
