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
    n BIGINT NOT NULL,
    PRIMARY KEY (org_id, dim, key, status)
);

INSERT INTO case_counts (org_id, dim, key, status, n)
SELECT org_id, 'all', '', status, COUNT(*) FROM cases WHERE deleted_at IS NULL GROUP BY org_id, status
UNION ALL SELECT org_id, 'owner', COALESCE(owner_id, ''), status, COUNT(*) FROM cases WHERE deleted_at IS NULL GROUP BY org_id, COALESCE(owner_id, ''), status
UNION ALL SELECT org_id, 'queue', COALESCE(queue_id, ''), status, COUNT(*) FROM cases WHERE deleted_at IS NULL GROUP BY org_id, COALESCE(queue_id, ''), status
UNION ALL SELECT org_id, 'priority', CAST(priority AS TEXT), status, COUNT(*) FROM cases WHERE deleted_at IS NULL GROUP BY org_id, CAST(priority AS TEXT), status
UNION ALL SELECT org_id, 'created_by', created_by, status, COUNT(*) FROM cases WHERE deleted_at IS NULL GROUP BY org_id, created_by, status
UNION ALL SELECT org_id, 'updated_by', updated_by, status, COUNT(*) FROM cases WHERE deleted_at IS NULL GROUP BY org_id, updated_by, status;

-- Rows are locked in key order, so two transactions changing counts never wait on each other in a
-- cycle within one statement.
CREATE FUNCTION case_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO case_counts (org_id, dim, key, status, n)
        SELECT org_id, dim, key, status, SUM(n) FROM (
            SELECT NEW.org_id AS org_id, d.column1 AS dim, d.column2 AS key, NEW.status AS status, 1 AS n
            FROM (VALUES ('all', ''), ('owner', COALESCE(NEW.owner_id, '')), ('queue', COALESCE(NEW.queue_id, '')), ('priority', CAST(NEW.priority AS TEXT)), ('created_by', NEW.created_by), ('updated_by', NEW.updated_by)) d WHERE NEW.deleted_at IS NULL
        ) x WHERE true GROUP BY org_id, dim, key, status HAVING SUM(n) <> 0 ORDER BY org_id, dim, key, status
        ON CONFLICT (org_id, dim, key, status) DO UPDATE SET n = case_counts.n + excluded.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO case_counts (org_id, dim, key, status, n)
        SELECT org_id, dim, key, status, SUM(n) FROM (
            SELECT OLD.org_id AS org_id, d.column1 AS dim, d.column2 AS key, OLD.status AS status, -1 AS n
            FROM (VALUES ('all', ''), ('owner', COALESCE(OLD.owner_id, '')), ('queue', COALESCE(OLD.queue_id, '')), ('priority', CAST(OLD.priority AS TEXT)), ('created_by', OLD.created_by), ('updated_by', OLD.updated_by)) d WHERE OLD.deleted_at IS NULL
        ) x WHERE true GROUP BY org_id, dim, key, status HAVING SUM(n) <> 0 ORDER BY org_id, dim, key, status
        ON CONFLICT (org_id, dim, key, status) DO UPDATE SET n = case_counts.n + excluded.n;
    ELSE
        INSERT INTO case_counts (org_id, dim, key, status, n)
        SELECT org_id, dim, key, status, SUM(n) FROM (
            SELECT OLD.org_id AS org_id, d.column1 AS dim, d.column2 AS key, OLD.status AS status, -1 AS n
            FROM (VALUES ('all', ''), ('owner', COALESCE(OLD.owner_id, '')), ('queue', COALESCE(OLD.queue_id, '')), ('priority', CAST(OLD.priority AS TEXT)), ('created_by', OLD.created_by), ('updated_by', OLD.updated_by)) d WHERE OLD.deleted_at IS NULL
            UNION ALL SELECT NEW.org_id AS org_id, d.column1 AS dim, d.column2 AS key, NEW.status AS status, 1 AS n
            FROM (VALUES ('all', ''), ('owner', COALESCE(NEW.owner_id, '')), ('queue', COALESCE(NEW.queue_id, '')), ('priority', CAST(NEW.priority AS TEXT)), ('created_by', NEW.created_by), ('updated_by', NEW.updated_by)) d WHERE NEW.deleted_at IS NULL
        ) x WHERE true GROUP BY org_id, dim, key, status HAVING SUM(n) <> 0 ORDER BY org_id, dim, key, status
        ON CONFLICT (org_id, dim, key, status) DO UPDATE SET n = case_counts.n + excluded.n;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER case_counts_insert AFTER INSERT ON cases FOR EACH ROW WHEN (NEW.deleted_at IS NULL)
    EXECUTE FUNCTION case_counts_track();
CREATE TRIGGER case_counts_delete AFTER DELETE ON cases FOR EACH ROW WHEN (OLD.deleted_at IS NULL)
    EXECUTE FUNCTION case_counts_track();
CREATE TRIGGER case_counts_update AFTER UPDATE ON cases FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.queue_id IS DISTINCT FROM NEW.queue_id OR OLD.priority IS DISTINCT FROM NEW.priority OR OLD.created_by IS DISTINCT FROM NEW.created_by OR OLD.updated_by IS DISTINCT FROM NEW.updated_by OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
    EXECUTE FUNCTION case_counts_track();

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

CREATE FUNCTION case_counts_track_tags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'cases' THEN
        INSERT INTO case_counts (org_id, dim, key, status, n)
        SELECT org_id, dim, key, status, SUM(n) FROM (
            SELECT OLD.org_id AS org_id, 'tag' AS dim, t.tag AS key, OLD.status AS status, -1 AS n
            FROM case_tags t WHERE t.case_seq = OLD.seq AND OLD.deleted_at IS NULL
            UNION ALL SELECT NEW.org_id, 'tag', t.tag, NEW.status, 1
            FROM case_tags t WHERE t.case_seq = NEW.seq AND NEW.deleted_at IS NULL
        ) x WHERE true GROUP BY org_id, dim, key, status HAVING SUM(n) <> 0 ORDER BY org_id, dim, key, status
        ON CONFLICT (org_id, dim, key, status) DO UPDATE SET n = case_counts.n + excluded.n;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO case_counts (org_id, dim, key, status, n)
        SELECT c.org_id, 'tag', NEW.tag, c.status, 1 FROM cases c WHERE c.seq = NEW.case_seq AND c.deleted_at IS NULL
        ON CONFLICT (org_id, dim, key, status) DO UPDATE SET n = case_counts.n + excluded.n;
    ELSE
        INSERT INTO case_counts (org_id, dim, key, status, n)
        SELECT c.org_id, 'tag', OLD.tag, c.status, -1 FROM cases c WHERE c.seq = OLD.case_seq AND c.deleted_at IS NULL
        ON CONFLICT (org_id, dim, key, status) DO UPDATE SET n = case_counts.n + excluded.n;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER case_counts_tag_insert AFTER INSERT ON case_tags FOR EACH ROW EXECUTE FUNCTION case_counts_track_tags();
CREATE TRIGGER case_counts_tag_delete AFTER DELETE ON case_tags FOR EACH ROW EXECUTE FUNCTION case_counts_track_tags();
CREATE TRIGGER case_counts_tag_move AFTER UPDATE ON cases FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
    EXECUTE FUNCTION case_counts_track_tags();

-- Views of a queue's unassigned or someone's cases in some statuses that totals do not answer
-- (two dimensions at once) count from this index alone.
CREATE INDEX cases_queue_owner_status ON cases(org_id, queue_id, owner_id, status) WHERE deleted_at IS NULL;

-- Search: a list ordered by creation with a word either walks the creation index until a page
-- matches (right for common words) or reads the word's matches from the GIN index and sorts them
-- (right for rare ones). With the default statistics a word the planner has no figure for is
-- guessed at thousands of matches, so an order number walked the whole table; tracking more
-- words makes such a guess small.
ALTER TABLE cases ALTER COLUMN search SET STATISTICS 1000;
