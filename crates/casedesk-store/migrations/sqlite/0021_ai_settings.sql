-- ai_settings: which provider answers an organization's assistant requests. Without a row the
-- built-in one does. The API key is sealed (ChaCha20-Poly1305 under the server's
-- --signing-key-secret, bound to the organization) and never returned by the API.
CREATE TABLE ai_settings (
    org_id TEXT PRIMARY KEY REFERENCES organizations(id),
    provider TEXT NOT NULL,
    base_url TEXT,
    model TEXT,
    api_key_sealed TEXT,
    api_key_header TEXT NOT NULL,
    api_version TEXT,
    timeout_secs INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
