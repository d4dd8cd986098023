-- Case categories (seed 004's ticket types) and the custom fields each opens (seed 003).
CREATE TABLE case_categories (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    fields TEXT NOT NULL, -- [{"key", "label", "kind", "required", "options"}]
    position BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX case_categories_org ON case_categories(org_id, position, id);

INSERT INTO case_categories (id, org_id, name, fields, position, created_at, updated_at)
SELECT 'ccat_' || substr(o.id, 5) || '_' || c.slug, o.id, c.name, '[]', c.position, o.created_at, o.created_at
FROM organizations o CROSS JOIN (
    SELECT 'bug' AS slug, 'Bug' AS name, 1 AS position
    UNION ALL SELECT 'feature', 'Feature Request', 2
    UNION ALL SELECT 'question', 'Question', 3
    UNION ALL SELECT 'complaint', 'Complaint', 4
    UNION ALL SELECT 'other', 'Other', 5
) c;

ALTER TABLE cases ADD COLUMN category_id TEXT;
CREATE INDEX cases_category ON cases(org_id, category_id, created_at, seq)
    WHERE category_id IS NOT NULL AND deleted_at IS NULL;
