-- Signing keys of visitor tokens (the external-visitors API). A token's header names its key by
-- kid, unique in the organization. HS256 secrets are stored sealed under the server's sealing
-- key (key_data = 'v1.' + base64url(nonce || ciphertext)); EdDSA keys are public keys.
-- Revoked keys stay, so their kid is never reused for another key.
CREATE TABLE signing_keys (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    kid TEXT NOT NULL,
    alg TEXT NOT NULL,
    key_data TEXT NOT NULL,
    description TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE UNIQUE INDEX signing_keys_kid ON signing_keys(org_id, kid);
CREATE INDEX signing_keys_org ON signing_keys(org_id, created_at, id);

-- A visitor is every contact of the organization with that external id.
CREATE INDEX contacts_external ON contacts(org_id, external_id) WHERE external_id IS NOT NULL;

-- /metrics counts dead-lettered deliveries and failed bulk jobs; they are few, so partial indexes
-- keep that cheap however long the delivery log and the job history grow.
CREATE INDEX webhook_deliveries_failed ON webhook_deliveries(org_id) WHERE state = 'failed';
CREATE INDEX bulk_jobs_failed ON bulk_jobs(org_id) WHERE state = 'failed';
