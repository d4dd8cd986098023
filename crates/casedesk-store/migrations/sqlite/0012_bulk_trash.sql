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
    total INTEGER NOT NULL,
    processed INTEGER NOT NULL DEFAULT 0,
    changed INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    failures TEXT NOT NULL DEFAULT '[]',
    cursor TEXT,
    error TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    claim TEXT,
    lease_until INTEGER,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
);
CREATE INDEX bulk_jobs_org ON bulk_jobs(org_id, created_at, id);
CREATE INDEX bulk_jobs_pending ON bulk_jobs(created_at) WHERE state IN ('queued', 'running');
