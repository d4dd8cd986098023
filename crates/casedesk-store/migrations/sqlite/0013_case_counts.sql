-- View counts: how many live cases each organization has, per status, along each dimension the
-- predefined views filter on (all cases, owner, queue, priority, creator, last editor; key '' is
-- "none"). Counting a view such as "My cases" or "All open" then reads a handful of these rows
-- instead of every matching case. Triggers on `cases` keep them: every write of a case changes
-- them in its own transaction, whichever statement made it. An update adds the net change only
-- (a case that changes owner moves between two owner rows and touches nothing else).
CREATE TABLE case_counts (
    org_id TEXT NOT NULL,
    dim TEXT NOT NULL,
    key TEXT NOT NULL,
    status TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (org_id, dim, key, status)
) WITHOUT ROWID;

INSERT INTO case_counts (org_id, dim, key, status, n)
SELECT org_id, 'all', '', status, COUNT(*) FROM cases WHERE deleted_at IS NULL GROUP BY org_id, status
UNION ALL SELECT org_id, 'owner', COALESCE(owner_id, ''), status, COUNT(*) FROM cases WHERE deleted_at IS NULL GROUP BY org_id, COALESCE(owner_id, ''), status
UNION ALL SELECT org_id, 'queue', COALESCE(queue_id, ''), status, COUNT(*) FROM cases WHERE deleted_at IS NULL GROUP BY org_id, COALESCE(queue_id, ''), status
UNION ALL SELECT org_id, 'priority', CAST(priority AS TEXT), status, COUNT(*) FROM cases WHERE deleted_at IS NULL GROUP BY org_id, CAST(priority AS TEXT), status
UNION ALL SELECT org_id, 'created_by', created_by, status, COUNT(*) FROM cases WHERE deleted_at IS NULL GROUP BY org_id, created_by, status
UNION ALL SELECT org_id, 'updated_by', updated_by, status, COUNT(*) FROM cases WHERE deleted_at IS NULL GROUP BY org_id, updated_by, status;

CREATE TRIGGER case_counts_insert AFTER INSERT ON cases WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO case_counts (org_id, dim, key, status, n)
    SELECT org_id, dim, key, status, SUM(n) FROM (
        SELECT new.org_id AS org_id, d.column1 AS dim, d.column2 AS key, new.status AS status, 1 AS n
        FROM (VALUES ('all', ''), ('owner', COALESCE(new.owner_id, '')), ('queue', COALESCE(new.queue_id, '')), ('priority', CAST(new.priority AS TEXT)), ('created_by', new.created_by), ('updated_by', new.updated_by)) d WHERE new.deleted_at IS NULL
    ) x WHERE true GROUP BY org_id, dim, key, status HAVING SUM(n) <> 0
    ON CONFLICT (org_id, dim, key, status) DO UPDATE SET n = case_counts.n + excluded.n;
END;

CREATE TRIGGER case_counts_delete AFTER DELETE ON cases WHEN old.deleted_at IS NULL BEGIN
    INSERT INTO case_counts (org_id, dim, key, status, n)
    SELECT org_id, dim, key, status, SUM(n) FROM (
        SELECT old.org_id AS org_id, d.column1 AS dim, d.column2 AS key, old.status AS status, -1 AS n
        FROM (VALUES ('all', ''), ('owner', COALESCE(old.owner_id, '')), ('queue', COALESCE(old.queue_id, '')), ('priority', CAST(old.priority AS TEXT)), ('created_by', old.created_by), ('updated_by', old.updated_by)) d WHERE old.deleted_at IS NULL
    ) x WHERE true GROUP BY org_id, dim, key, status HAVING SUM(n) <> 0
    ON CONFLICT (org_id, dim, key, status) DO UPDATE SET n = case_counts.n + excluded.n;
END;

CREATE TRIGGER case_counts_update AFTER UPDATE ON cases
WHEN old.status IS NOT new.status OR old.owner_id IS NOT new.owner_id OR old.queue_id IS NOT new.queue_id OR old.priority IS NOT new.priority OR old.created_by IS NOT new.created_by OR old.updated_by IS NOT new.updated_by OR old.deleted_at IS NOT new.deleted_at BEGIN
    INSERT INTO case_counts (org_id, dim, key, status, n)
    SELECT org_id, dim, key, status, SUM(n) FROM (
        SELECT old.org_id AS org_id, d.column1 AS dim, d.column2 AS key, old.status AS status, -1 AS n
        FROM (VALUES ('all', ''), ('owner', COALESCE(old.owner_id, '')), ('queue', COALESCE(old.queue_id, '')), ('priority', CAST(old.priority AS TEXT)), ('created_by', old.created_by), ('updated_by', old.updated_by)) d WHERE old.deleted_at IS NULL
        UNION ALL SELECT new.org_id AS org_id, d.column1 AS dim, d.column2 AS key, new.status AS status, 1 AS n
        FROM (VALUES ('all', ''), ('owner', COALESCE(new.owner_id, '')), ('queue', COALESCE(new.queue_id, '')), ('priority', CAST(new.priority AS TEXT)), ('created_by', new.created_by), ('updated_by', new.updated_by)) d WHERE new.deleted_at IS NULL
    ) x WHERE true GROUP BY org_id, dim, key, status HAVING SUM(n) <> 0
    ON CONFLICT (org_id, dim, key, status) DO UPDATE SET n = case_counts.n + excluded.n;
END;

-- "Overdue" (sla:overdue with statuses) depends on the time, so it is not kept as totals. Its
-- count is two disjoint parts, breached and "not breached but due before now" (see
-- casedesk_domain::count::split_overdue), each read from one of these indexes alone.
CREATE INDEX cases_overdue_breached ON cases(org_id, status) WHERE sla_breached AND deleted_at IS NULL;
CREATE INDEX cases_overdue_due ON cases(org_id, sla_due_at, status)
    WHERE NOT sla_breached AND sla_due_at IS NOT NULL AND deleted_at IS NULL;

-- Tags are a dimension too (dim 'tag', key the tag): a tag added to or taken from a live case
-- counts in the case's status, and a case that changes status or is deleted moves its tags.
INSERT INTO case_counts (org_id, dim, key, status, n)
SELECT c.org_id, 'tag', t.tag, c.status, COUNT(*) FROM case_tags t JOIN cases c ON c.seq = t.case_seq
WHERE c.deleted_at IS NULL GROUP BY c.org_id, t.tag, c.status;

CREATE TRIGGER case_counts_tag_insert AFTER INSERT ON case_tags BEGIN
    INSERT INTO case_counts (org_id, dim, key, status, n)
    SELECT c.org_id, 'tag', new.tag, c.status, 1 FROM cases c WHERE c.seq = new.case_seq AND c.deleted_at IS NULL
    ON CONFLICT (org_id, dim, key, status) DO UPDATE SET n = case_counts.n + excluded.n;
END;

CREATE TRIGGER case_counts_tag_delete AFTER DELETE ON case_tags BEGIN
    INSERT INTO case_counts (org_id, dim, key, status, n)
    SELECT c.org_id, 'tag', old.tag, c.status, -1 FROM cases c WHERE c.seq = old.case_seq AND c.deleted_at IS NULL
    ON CONFLICT (org_id, dim, key, status) DO UPDATE SET n = case_counts.n + excluded.n;
END;

CREATE TRIGGER case_counts_tag_move AFTER UPDATE ON cases
WHEN old.status IS NOT new.status OR old.deleted_at IS NOT new.deleted_at BEGIN
    INSERT INTO case_counts (org_id, dim, key, status, n)
    SELECT org_id, dim, key, status, SUM(n) FROM (
        SELECT old.org_id AS org_id, 'tag' AS dim, t.tag AS key, old.status AS status, -1 AS n
        FROM case_tags t WHERE t.case_seq = old.seq AND old.deleted_at IS NULL
        UNION ALL SELECT new.org_id, 'tag', t.tag, new.status, 1
        FROM case_tags t WHERE t.case_seq = new.seq AND new.deleted_at IS NULL
    ) x WHERE true GROUP BY org_id, dim, key, status HAVING SUM(n) <> 0
    ON CONFLICT (org_id, dim, key, status) DO UPDATE SET n = case_counts.n + excluded.n;
END;

-- Views of a queue's unassigned or someone's cases in some statuses that totals do not answer
-- (two dimensions at once) count from this index alone.
CREATE INDEX cases_queue_owner_status ON cases(org_id, queue_id, owner_id, status) WHERE deleted_at IS NULL;
