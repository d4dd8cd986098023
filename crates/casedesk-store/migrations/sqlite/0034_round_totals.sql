-- A round of the group committer (src/sqlite/creator.rs) adds its cases to the per-view
-- counters and the created-day report totals once for the whole round, with one grouped upsert
-- each, instead of these triggers upserting six or more rows per case. While `case_round` holds
-- its row (only inside such a round's transaction) the three insert triggers leave those totals
-- to the round; every other write keeps them as before.
CREATE TABLE case_round (only INTEGER PRIMARY KEY CHECK (only = 1));

DROP TRIGGER case_counts_insert;
CREATE TRIGGER case_counts_insert AFTER INSERT ON cases WHEN new.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM case_round) BEGIN
    INSERT INTO case_counts (org_id, dim, key, status, n)
    SELECT org_id, dim, key, status, SUM(n) FROM (
        SELECT new.org_id AS org_id, d.column1 AS dim, d.column2 AS key, new.status AS status, 1 AS n
        FROM (VALUES ('all', ''), ('owner', COALESCE(new.owner_id, '')), ('queue', COALESCE(new.queue_id, '')), ('priority', CAST(new.priority AS TEXT)), ('created_by', new.created_by), ('updated_by', new.updated_by)) d WHERE new.deleted_at IS NULL
    ) x WHERE true GROUP BY org_id, dim, key, status HAVING SUM(n) <> 0
    ON CONFLICT (org_id, dim, key, status) DO UPDATE SET n = case_counts.n + excluded.n;
END;

DROP TRIGGER case_counts_tag_insert;
CREATE TRIGGER case_counts_tag_insert AFTER INSERT ON case_tags WHEN NOT EXISTS (SELECT 1 FROM case_round) BEGIN
    INSERT INTO case_counts (org_id, dim, key, status, n)
    SELECT c.org_id, 'tag', new.tag, c.status, 1 FROM cases c WHERE c.seq = new.case_seq AND c.deleted_at IS NULL
    ON CONFLICT (org_id, dim, key, status) DO UPDATE SET n = case_counts.n + excluded.n;
END;

DROP TRIGGER report_days_insert;
CREATE TRIGGER report_days_insert AFTER INSERT ON cases WHEN new.report IS NOT NULL AND new.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM case_round) BEGIN
    INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
    SELECT new.org_id, 'created', d.column1, d.column2, json_extract(new.report, '$.created_day'), 1, 0, 0, 0, 0, '{}', '{}'
    FROM (VALUES ('all', ''), ('queue', COALESCE(new.queue_id, '')), ('agent', COALESCE(new.owner_id, '')), ('priority', CAST(new.priority AS TEXT)), ('channel', new.channel), ('category', COALESCE(new.category_id, ''))) d
    WHERE json_extract(new.report, '$.created_day') IS NOT NULL AND new.report IS NOT NULL AND new.deleted_at IS NULL
    ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET n = report_days.n + excluded.n;
END;
