-- The customer portal (docs/portal.md). Requesters sign in by a one-time link mailed to their
-- address, or arrive from the host application with a visitor token; either way they get a
-- portal session of their own, apart from agents' ui_sessions. Only SHA-256 hashes of link
-- tokens and session secrets are stored.

-- Whether the contacts of an account see each other's cases in the portal (off by default).
ALTER TABLE accounts ADD COLUMN portal_shares_cases BOOLEAN NOT NULL DEFAULT FALSE;

-- A sign-in link: single use (used_at is set by the one UPDATE that redeems it) and short-lived.
CREATE TABLE portal_links (
    token_hash TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    email TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX portal_links_expires ON portal_links(expires_at);

-- A signed-in requester: the contacts with this email address, or with this external id (a
-- visitor from the host application), in the organization.
CREATE TABLE portal_sessions (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    email TEXT,
    external_id TEXT,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX portal_sessions_expires ON portal_sessions(expires_at);

-- A sign-in link is asked for by address alone, in whichever organization has the contact.
CREATE INDEX contacts_email_any ON contacts(email);
