-- Time tracking in the per-day report totals (series 'time' of `report_days`): each time entry
-- counts on its work date (n entries, secs logged, m billable seconds) under its agent (who logged
-- it) and its case's queue, priority, channel and category as they are now. Triggers on
-- time_entries add, change and remove entries; a trigger on cases moves a case's entries when
-- one of those columns changes or the case is deleted or restored. Time on deleted cases counts
-- nowhere, as the cases do not.

INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
SELECT org_id, 'time', dim, key, day, COUNT(*), SUM(billable), SUM(secs), 0, 0, '{}', '{}' FROM (
    SELECT te.org_id, d.column1 AS dim, CASE d.column1 WHEN 'all' THEN '' WHEN 'queue' THEN COALESCE(c.queue_id, '')
        WHEN 'agent' THEN te.user_id WHEN 'priority' THEN CAST(c.priority AS TEXT) WHEN 'channel' THEN c.channel
        ELSE COALESCE(c.category_id, '') END AS key, CAST(julianday(te.work_date) - 2440587.5 AS INTEGER) AS day,
        CASE WHEN te.billable THEN te.duration_secs ELSE 0 END AS billable, te.duration_secs AS secs
    FROM time_entries te JOIN cases c ON c.id = te.case_id,
        (VALUES ('all'), ('queue'), ('agent'), ('priority'), ('channel'), ('category')) d
    WHERE c.deleted_at IS NULL
) x WHERE true GROUP BY org_id, dim, key, day;

CREATE TRIGGER time_report_insert AFTER INSERT ON time_entries BEGIN
    INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
    SELECT new.org_id, 'time', d.column1, CASE d.column1 WHEN 'all' THEN '' WHEN 'queue' THEN COALESCE(c.queue_id, '') WHEN 'agent' THEN new.user_id WHEN 'priority' THEN CAST(c.priority AS TEXT) WHEN 'channel' THEN c.channel ELSE COALESCE(c.category_id, '') END, CAST(julianday(new.work_date) - 2440587.5 AS INTEGER), 1, 1 * CASE WHEN new.billable THEN new.duration_secs ELSE 0 END,
        1 * new.duration_secs, 0, 0, '{}', '{}'
    FROM cases c, (VALUES ('all'), ('queue'), ('agent'), ('priority'), ('channel'), ('category')) d
    WHERE c.id = new.case_id AND c.deleted_at IS NULL
    ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET
        n = report_days.n + excluded.n, m = report_days.m + excluded.m, secs = report_days.secs + excluded.secs;
END;

CREATE TRIGGER time_report_delete AFTER DELETE ON time_entries BEGIN
    INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
    SELECT old.org_id, 'time', d.column1, CASE d.column1 WHEN 'all' THEN '' WHEN 'queue' THEN COALESCE(c.queue_id, '') WHEN 'agent' THEN old.user_id WHEN 'priority' THEN CAST(c.priority AS TEXT) WHEN 'channel' THEN c.channel ELSE COALESCE(c.category_id, '') END, CAST(julianday(old.work_date) - 2440587.5 AS INTEGER), -1, -1 * CASE WHEN old.billable THEN old.duration_secs ELSE 0 END,
        -1 * old.duration_secs, 0, 0, '{}', '{}'
    FROM cases c, (VALUES ('all'), ('queue'), ('agent'), ('priority'), ('channel'), ('category')) d
    WHERE c.id = old.case_id AND c.deleted_at IS NULL
    ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET
        n = report_days.n + excluded.n, m = report_days.m + excluded.m, secs = report_days.secs + excluded.secs;
END;

CREATE TRIGGER time_report_update AFTER UPDATE ON time_entries
WHEN old.work_date IS NOT new.work_date OR old.duration_secs IS NOT new.duration_secs OR old.billable IS NOT new.billable
    OR old.user_id IS NOT new.user_id OR old.case_id IS NOT new.case_id BEGIN
    INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
    SELECT old.org_id, 'time', d.column1, CASE d.column1 WHEN 'all' THEN '' WHEN 'queue' THEN COALESCE(c.queue_id, '') WHEN 'agent' THEN old.user_id WHEN 'priority' THEN CAST(c.priority AS TEXT) WHEN 'channel' THEN c.channel ELSE COALESCE(c.category_id, '') END, CAST(julianday(old.work_date) - 2440587.5 AS INTEGER), -1, -1 * CASE WHEN old.billable THEN old.duration_secs ELSE 0 END,
        -1 * old.duration_secs, 0, 0, '{}', '{}'
    FROM cases c, (VALUES ('all'), ('queue'), ('agent'), ('priority'), ('channel'), ('category')) d
    WHERE c.id = old.case_id AND c.deleted_at IS NULL
    ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET
        n = report_days.n + excluded.n, m = report_days.m + excluded.m, secs = report_days.secs + excluded.secs;
    INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
    SELECT new.org_id, 'time', d.column1, CASE d.column1 WHEN 'all' THEN '' WHEN 'queue' THEN COALESCE(c.queue_id, '') WHEN 'agent' THEN new.user_id WHEN 'priority' THEN CAST(c.priority AS TEXT) WHEN 'channel' THEN c.channel ELSE COALESCE(c.category_id, '') END, CAST(julianday(new.work_date) - 2440587.5 AS INTEGER), 1, 1 * CASE WHEN new.billable THEN new.duration_secs ELSE 0 END,
        1 * new.duration_secs, 0, 0, '{}', '{}'
    FROM cases c, (VALUES ('all'), ('queue'), ('agent'), ('priority'), ('channel'), ('category')) d
    WHERE c.id = new.case_id AND c.deleted_at IS NULL
    ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET
        n = report_days.n + excluded.n, m = report_days.m + excluded.m, secs = report_days.secs + excluded.secs;
END;

CREATE TRIGGER time_report_case AFTER UPDATE ON cases
WHEN old.queue_id IS NOT new.queue_id OR old.priority IS NOT new.priority OR old.channel IS NOT new.channel
    OR old.category_id IS NOT new.category_id OR old.deleted_at IS NOT new.deleted_at BEGIN
    INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
    SELECT te.org_id, 'time', d.column1, CASE d.column1 WHEN 'all' THEN '' WHEN 'queue' THEN COALESCE(old.queue_id, '') WHEN 'agent' THEN te.user_id WHEN 'priority' THEN CAST(old.priority AS TEXT) WHEN 'channel' THEN old.channel ELSE COALESCE(old.category_id, '') END, CAST(julianday(te.work_date) - 2440587.5 AS INTEGER), -1, -1 * CASE WHEN te.billable THEN te.duration_secs ELSE 0 END,
        -1 * te.duration_secs, 0, 0, '{}', '{}'
    FROM time_entries te, (VALUES ('all'), ('queue'), ('agent'), ('priority'), ('channel'), ('category')) d
    WHERE te.case_id = old.id AND old.deleted_at IS NULL
    ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET
        n = report_days.n + excluded.n, m = report_days.m + excluded.m, secs = report_days.secs + excluded.secs;
    INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
    SELECT te.org_id, 'time', d.column1, CASE d.column1 WHEN 'all' THEN '' WHEN 'queue' THEN COALESCE(new.queue_id, '') WHEN 'agent' THEN te.user_id WHEN 'priority' THEN CAST(new.priority AS TEXT) WHEN 'channel' THEN new.channel ELSE COALESCE(new.category_id, '') END, CAST(julianday(te.work_date) - 2440587.5 AS INTEGER), 1, 1 * CASE WHEN te.billable THEN te.duration_secs ELSE 0 END,
        1 * te.duration_secs, 0, 0, '{}', '{}'
    FROM time_entries te, (VALUES ('all'), ('queue'), ('agent'), ('priority'), ('channel'), ('category')) d
    WHERE te.case_id = new.id AND new.deleted_at IS NULL
    ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET
        n = report_days.n + excluded.n, m = report_days.m + excluded.m, secs = report_days.secs + excluded.secs;
END;
