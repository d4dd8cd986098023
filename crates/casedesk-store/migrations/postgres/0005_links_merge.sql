-- Links between cases (related, parent/child, duplicate) and merged cases.
CREATE TABLE case_links (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    -- Stored one way: `from_case_id` is related to, a child of, or a duplicate of `to_case_id`.
    from_case_id TEXT NOT NULL REFERENCES cases(id),
    to_case_id TEXT NOT NULL REFERENCES cases(id),
    kind TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX case_links_pair ON case_links(from_case_id, to_case_id, kind);
CREATE INDEX case_links_to ON case_links(to_case_id);

-- A case merged into another is closed and points at it.
ALTER TABLE cases ADD COLUMN merged_into_id TEXT;
