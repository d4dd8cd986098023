-- The trash: a deleted case keeps its row (deleted_at says when) until it is restored or
-- purged; deleted_by says who put it there.
ALTER TABLE cases ADD COLUMN deleted_by TEXT;
CREATE INDEX cases_trash ON cases(org_id, deleted_at, id) WHERE deleted_at IS NOT NULL;

-- Bulk actions on everything a query matched, run in the background by whichever instance
-- claims them; `claim` names the current claim, so a worker whose lease ran out cannot write
-- over the progress of the one that took over.
CREATE TABLE bulk_jobs (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    created_by TEXT NOT NULL,
    action TEXT NOT NULL,
    query TEXT NOT NULL,
    state TEXT NOT NULL,
    total BIGINT NOT NULL,
    processed BIGINT NOT NULL DEFAULT 0,
    changed BIGINT NOT NULL DEFAULT 0,
    unchanged BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    failures TEXT NOT NULL DEFAULT '[]',
    cursor TEXT,
    error TEXT,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    claim TEXT,
    lease_until BIGINT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX bulk_jobs_org ON bulk_jobs(org_id, created_at, id);
CREATE INDEX bulk_jobs_pending ON bulk_jobs(created_at) WHERE state IN ('queued', 'running');
