-- Time tracking in the per-day report totals (series 'time' of `report_days`): each time entry
-- counts on its work date (n entries, secs logged, m billable seconds) under its agent (who logged
-- it) and its case's queue, priority, channel and category as they are now. Triggers on
-- time_entries add, change and remove entries; a trigger on cases moves a case's entries when
-- one of those columns changes or the case is deleted or restored. Time on deleted cases counts
-- nowhere, as the cases do not.

INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
SELECT te.org_id, 'time', d.dim, d.key, te.work_date::date - DATE '1970-01-01', COUNT(*),
    SUM(CASE WHEN te.billable THEN te.duration_secs ELSE 0 END), SUM(te.duration_secs), 0, 0, '{}'::jsonb, '{}'::jsonb
FROM time_entries te JOIN cases c ON c.id = te.case_id
CROSS JOIN LATERAL (VALUES ('all', ''), ('queue', COALESCE(c.queue_id, '')), ('agent', te.user_id),
    ('priority', c.priority::text), ('channel', c.channel), ('category', COALESCE(c.category_id, ''))) AS d(dim, key)
WHERE c.deleted_at IS NULL
GROUP BY te.org_id, d.dim, d.key, te.work_date;

-- Adds (dir 1) or takes away (dir -1) time entry `te` under case `c` (nothing for a deleted case).
CREATE FUNCTION time_report_add(te time_entries, c cases, dir BIGINT) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    x record;
BEGIN
    IF c.id IS NULL OR c.deleted_at IS NOT NULL THEN
        RETURN;
    END IF;
    FOR x IN
        SELECT d.dim, d.key FROM (VALUES ('all', ''), ('queue', COALESCE(c.queue_id, '')), ('agent', te.user_id),
            ('priority', c.priority::text), ('channel', c.channel), ('category', COALESCE(c.category_id, ''))) AS d(dim, key)
        ORDER BY d.dim, d.key
    LOOP
        INSERT INTO report_days AS r (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
        VALUES (te.org_id, 'time', x.dim, x.key, te.work_date::date - DATE '1970-01-01', dir,
            dir * CASE WHEN te.billable THEN te.duration_secs ELSE 0 END, dir * te.duration_secs, 0, 0, '{}'::jsonb, '{}'::jsonb)
        ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET
            n = r.n + EXCLUDED.n, m = r.m + EXCLUDED.m, secs = r.secs + EXCLUDED.secs;
    END LOOP;
END
$$;

CREATE FUNCTION time_report_track() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    c cases;
    e time_entries;
BEGIN
    IF TG_TABLE_NAME = 'cases' THEN
        FOR e IN SELECT * FROM time_entries WHERE case_id = OLD.id LOOP
            PERFORM time_report_add(e, OLD, -1);
            PERFORM time_report_add(e, NEW, 1);
        END LOOP;
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        SELECT * INTO c FROM cases WHERE id = OLD.case_id;
        PERFORM time_report_add(OLD, c, -1);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        SELECT * INTO c FROM cases WHERE id = NEW.case_id;
        PERFORM time_report_add(NEW, c, 1);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER time_report_insert AFTER INSERT ON time_entries FOR EACH ROW EXECUTE FUNCTION time_report_track();
CREATE TRIGGER time_report_delete AFTER DELETE ON time_entries FOR EACH ROW EXECUTE FUNCTION time_report_track();
CREATE TRIGGER time_report_update AFTER UPDATE ON time_entries FOR EACH ROW
    WHEN (OLD.work_date IS DISTINCT FROM NEW.work_date OR OLD.duration_secs IS DISTINCT FROM NEW.duration_secs
        OR OLD.billable IS DISTINCT FROM NEW.billable OR OLD.user_id IS DISTINCT FROM NEW.user_id
        OR OLD.case_id IS DISTINCT FROM NEW.case_id)
    EXECUTE FUNCTION time_report_track();
CREATE TRIGGER time_report_case AFTER UPDATE ON cases FOR EACH ROW
    WHEN (OLD.queue_id IS DISTINCT FROM NEW.queue_id OR OLD.priority IS DISTINCT FROM NEW.priority
        OR OLD.channel IS DISTINCT FROM NEW.channel OR OLD.category_id IS DISTINCT FROM NEW.category_id
        OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
    EXECUTE FUNCTION time_report_track();
