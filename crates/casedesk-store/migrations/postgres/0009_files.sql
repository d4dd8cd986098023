-- Files on a case. The bytes live in the blob store under their SHA-256; a row exists only once
-- the content is stored completely, so no row ever points at half a file.
CREATE TABLE case_files (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    case_id TEXT NOT NULL REFERENCES cases(id),
    comment_id TEXT REFERENCES comments(id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX case_files_case ON case_files(case_id, created_at, id);
CREATE INDEX case_files_comment ON case_files(comment_id) WHERE comment_id IS NOT NULL;
-- The blob sweep asks whether any file still uses a content.
CREATE INDEX case_files_sha ON case_files(sha256);
