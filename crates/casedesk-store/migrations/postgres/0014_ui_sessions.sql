-- Web UI sessions. The cookie carries a random secret; only its SHA-256 is stored (id), so a
-- leaked database signs nobody in. Every instance reads the same rows: no session lives in
-- process memory.
CREATE TABLE ui_sessions (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX ui_sessions_user ON ui_sessions(user_id);
CREATE INDEX ui_sessions_expires ON ui_sessions(expires_at);

-- Failed sign-ins, one row each, keyed 'email:<address>' or 'addr:<client address>', counted
-- over a sliding window to throttle guessing across all instances.
CREATE TABLE sign_in_failures (
    key TEXT NOT NULL,
    failed_at BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_key ON sign_in_failures(key, failed_at);
