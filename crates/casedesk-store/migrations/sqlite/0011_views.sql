-- Saved views: a query in the search syntax, the columns to show and an order, seen by their
-- creator, a queue's members or the whole organization.
CREATE TABLE case_views (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    columns TEXT NOT NULL,
    ordering TEXT NOT NULL,
    scope TEXT NOT NULL,
    queue_id TEXT REFERENCES case_queues(id),
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX case_views_org ON case_views(org_id, created_at, id);
