-- IMAP polling of a mailbox: its server, account and folder, and where polling got to.
--
-- One row per mailbox that is polled. The password is sealed under the server's key (never
-- stored in the clear). uid_validity + last_uid is the cursor: a message at or below it in the
-- same UIDVALIDITY was taken in already, whatever its flags say. A poll claims the row with a
-- lease (claim, lease_until), so instances sharing the database never poll one mailbox at once;
-- a poller that dies leaves the lease to run out.
CREATE TABLE mailbox_imap (
    mailbox_id TEXT PRIMARY KEY REFERENCES mailboxes(id),
    org_id TEXT NOT NULL REFERENCES organizations(id),
    host TEXT NOT NULL,
    port BIGINT NOT NULL,
    security TEXT NOT NULL,
    username TEXT NOT NULL,
    password_sealed TEXT,
    folder TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    uid_validity BIGINT,
    last_uid BIGINT,
    last_poll_at BIGINT,
    last_error TEXT,
    failures BIGINT NOT NULL DEFAULT 0,
    next_poll_at BIGINT NOT NULL,
    claim TEXT,
    lease_until BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX mailbox_imap_org ON mailbox_imap(org_id);
CREATE INDEX mailbox_imap_due ON mailbox_imap(next_poll_at) WHERE enabled;
