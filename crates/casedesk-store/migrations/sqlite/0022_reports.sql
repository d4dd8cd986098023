-- Reports: per-day totals of what cases contribute, kept by triggers like case_counts (0013).
--
-- `cases.report` is a JSON object the store writes with every case (casedesk_domain::report::facts):
-- the organization's day the case was created, first answered and resolved, the durations in
-- calendar and business seconds and their histogram buckets, and the SLA targets met. The
-- triggers add each live case to `report_days` once per series it is in (created, first_response,
-- resolved, sla_*) and per grouping (all, queue, agent, priority, channel, category), under the
-- day of that series; a write that changes the figures or the grouping columns takes the old
-- contribution away and adds the new one, in the write's own transaction. `hist`/`bhist` are
-- histograms (bucket → count) of the calendar and business durations, from which medians and
-- 90th percentiles of any range are read (docs/reports.md).

ALTER TABLE cases ADD COLUMN report TEXT;

CREATE TABLE report_days (
    org_id TEXT NOT NULL,
    series TEXT NOT NULL,
    dim TEXT NOT NULL,
    key TEXT NOT NULL,
    day INTEGER NOT NULL,         -- days since 1970-01-01, in the organization's time zone
    n INTEGER NOT NULL,           -- cases (targets, answers)
    m INTEGER NOT NULL,           -- targets met
    secs INTEGER NOT NULL,        -- calendar seconds
    bn INTEGER NOT NULL,          -- cases with a business duration
    bsecs INTEGER NOT NULL,       -- business seconds
    hist TEXT NOT NULL,           -- {"bucket": count} of calendar durations
    bhist TEXT NOT NULL,          -- the same of business durations
    PRIMARY KEY (org_id, series, dim, day, key)
) WITHOUT ROWID;

CREATE TRIGGER report_days_insert AFTER INSERT ON cases WHEN new.report IS NOT NULL AND new.deleted_at IS NULL BEGIN
    INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
    SELECT new.org_id, s.series, d.column1, d.column2, s.day, 1, 1 * s.m, 1 * s.secs, 1 * s.bn, 1 * s.bsecs, s.hist, s.bhist
    FROM (
        SELECT 'created' AS series, json_extract(new.report, '$.created_day') AS day, 0 AS m, 0 AS secs, 0 AS bn, 0 AS bsecs, '{}' AS hist, '{}' AS bhist
        UNION ALL SELECT 'first_response', CASE WHEN json_extract(new.report, '$.fr_secs') IS NOT NULL THEN json_extract(new.report, '$.first_response_day') END, 0, COALESCE(json_extract(new.report, '$.fr_secs'), 0), CASE WHEN json_extract(new.report, '$.first_response_bsecs') IS NULL THEN 0 ELSE 1 END, COALESCE(json_extract(new.report, '$.first_response_bsecs'), 0), CASE WHEN json_extract(new.report, '$.fr_b') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(new.report, '$.fr_b') AS TEXT), 1) END, CASE WHEN json_extract(new.report, '$.fr_bb') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(new.report, '$.fr_bb') AS TEXT), 1) END
        UNION ALL SELECT 'resolved', json_extract(new.report, '$.resolved_day'), 0, COALESCE(json_extract(new.report, '$.res_secs'), 0), CASE WHEN json_extract(new.report, '$.resolution_bsecs') IS NULL THEN 0 ELSE 1 END, COALESCE(json_extract(new.report, '$.resolution_bsecs'), 0), CASE WHEN json_extract(new.report, '$.res_b') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(new.report, '$.res_b') AS TEXT), 1) END, CASE WHEN json_extract(new.report, '$.res_bb') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(new.report, '$.res_bb') AS TEXT), 1) END
        UNION ALL SELECT 'sla_first_response', CASE WHEN json_extract(new.report, '$.sla_fr') IS NOT NULL THEN json_extract(new.report, '$.resolved_day') END, json_extract(new.report, '$.sla_fr'), 0, 0, 0, '{}', '{}'
        UNION ALL SELECT 'sla_next_response', CASE WHEN json_extract(new.report, '$.sla_nr') IS NOT NULL THEN json_extract(new.report, '$.resolved_day') END, json_extract(new.report, '$.sla_nr'), 0, 0, 0, '{}', '{}'
        UNION ALL SELECT 'sla_resolution', CASE WHEN json_extract(new.report, '$.sla_res') IS NOT NULL THEN json_extract(new.report, '$.resolved_day') END, json_extract(new.report, '$.sla_res'), 0, 0, 0, '{}', '{}'
    ) s, (VALUES ('all', ''), ('queue', COALESCE(new.queue_id, '')), ('agent', COALESCE(new.owner_id, '')), ('priority', CAST(new.priority AS TEXT)), ('channel', new.channel), ('category', COALESCE(new.category_id, ''))) d
    WHERE s.day IS NOT NULL AND new.report IS NOT NULL AND new.deleted_at IS NULL
    ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET
        n = report_days.n + excluded.n, m = report_days.m + excluded.m, secs = report_days.secs + excluded.secs,
        bn = report_days.bn + excluded.bn, bsecs = report_days.bsecs + excluded.bsecs,
        hist = CASE WHEN excluded.hist = '{}' THEN report_days.hist ELSE (SELECT json_set(report_days.hist, '$."' || j.key || '"',
            COALESCE(json_extract(report_days.hist, '$."' || j.key || '"'), 0) + j.value) FROM json_each(excluded.hist) j) END,
        bhist = CASE WHEN excluded.bhist = '{}' THEN report_days.bhist ELSE (SELECT json_set(report_days.bhist, '$."' || j.key || '"',
            COALESCE(json_extract(report_days.bhist, '$."' || j.key || '"'), 0) + j.value) FROM json_each(excluded.bhist) j) END;
END;

CREATE TRIGGER report_days_delete AFTER DELETE ON cases WHEN old.report IS NOT NULL AND old.deleted_at IS NULL BEGIN
    INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
    SELECT old.org_id, s.series, d.column1, d.column2, s.day, -1, -1 * s.m, -1 * s.secs, -1 * s.bn, -1 * s.bsecs, s.hist, s.bhist
    FROM (
        SELECT 'created' AS series, json_extract(old.report, '$.created_day') AS day, 0 AS m, 0 AS secs, 0 AS bn, 0 AS bsecs, '{}' AS hist, '{}' AS bhist
        UNION ALL SELECT 'first_response', CASE WHEN json_extract(old.report, '$.fr_secs') IS NOT NULL THEN json_extract(old.report, '$.first_response_day') END, 0, COALESCE(json_extract(old.report, '$.fr_secs'), 0), CASE WHEN json_extract(old.report, '$.first_response_bsecs') IS NULL THEN 0 ELSE 1 END, COALESCE(json_extract(old.report, '$.first_response_bsecs'), 0), CASE WHEN json_extract(old.report, '$.fr_b') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(old.report, '$.fr_b') AS TEXT), -1) END, CASE WHEN json_extract(old.report, '$.fr_bb') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(old.report, '$.fr_bb') AS TEXT), -1) END
        UNION ALL SELECT 'resolved', json_extract(old.report, '$.resolved_day'), 0, COALESCE(json_extract(old.report, '$.res_secs'), 0), CASE WHEN json_extract(old.report, '$.resolution_bsecs') IS NULL THEN 0 ELSE 1 END, COALESCE(json_extract(old.report, '$.resolution_bsecs'), 0), CASE WHEN json_extract(old.report, '$.res_b') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(old.report, '$.res_b') AS TEXT), -1) END, CASE WHEN json_extract(old.report, '$.res_bb') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(old.report, '$.res_bb') AS TEXT), -1) END
        UNION ALL SELECT 'sla_first_response', CASE WHEN json_extract(old.report, '$.sla_fr') IS NOT NULL THEN json_extract(old.report, '$.resolved_day') END, json_extract(old.report, '$.sla_fr'), 0, 0, 0, '{}', '{}'
        UNION ALL SELECT 'sla_next_response', CASE WHEN json_extract(old.report, '$.sla_nr') IS NOT NULL THEN json_extract(old.report, '$.resolved_day') END, json_extract(old.report, '$.sla_nr'), 0, 0, 0, '{}', '{}'
        UNION ALL SELECT 'sla_resolution', CASE WHEN json_extract(old.report, '$.sla_res') IS NOT NULL THEN json_extract(old.report, '$.resolved_day') END, json_extract(old.report, '$.sla_res'), 0, 0, 0, '{}', '{}'
    ) s, (VALUES ('all', ''), ('queue', COALESCE(old.queue_id, '')), ('agent', COALESCE(old.owner_id, '')), ('priority', CAST(old.priority AS TEXT)), ('channel', old.channel), ('category', COALESCE(old.category_id, ''))) d
    WHERE s.day IS NOT NULL AND old.report IS NOT NULL AND old.deleted_at IS NULL
    ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET
        n = report_days.n + excluded.n, m = report_days.m + excluded.m, secs = report_days.secs + excluded.secs,
        bn = report_days.bn + excluded.bn, bsecs = report_days.bsecs + excluded.bsecs,
        hist = CASE WHEN excluded.hist = '{}' THEN report_days.hist ELSE (SELECT json_set(report_days.hist, '$."' || j.key || '"',
            COALESCE(json_extract(report_days.hist, '$."' || j.key || '"'), 0) + j.value) FROM json_each(excluded.hist) j) END,
        bhist = CASE WHEN excluded.bhist = '{}' THEN report_days.bhist ELSE (SELECT json_set(report_days.bhist, '$."' || j.key || '"',
            COALESCE(json_extract(report_days.bhist, '$."' || j.key || '"'), 0) + j.value) FROM json_each(excluded.bhist) j) END;
END;

CREATE TRIGGER report_days_update AFTER UPDATE ON cases
WHEN old.report IS NOT new.report OR old.queue_id IS NOT new.queue_id OR old.owner_id IS NOT new.owner_id
    OR old.priority IS NOT new.priority OR old.channel IS NOT new.channel OR old.category_id IS NOT new.category_id
    OR old.deleted_at IS NOT new.deleted_at BEGIN
    INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
    SELECT old.org_id, s.series, d.column1, d.column2, s.day, -1, -1 * s.m, -1 * s.secs, -1 * s.bn, -1 * s.bsecs, s.hist, s.bhist
    FROM (
        SELECT 'created' AS series, json_extract(old.report, '$.created_day') AS day, 0 AS m, 0 AS secs, 0 AS bn, 0 AS bsecs, '{}' AS hist, '{}' AS bhist
        UNION ALL SELECT 'first_response', CASE WHEN json_extract(old.report, '$.fr_secs') IS NOT NULL THEN json_extract(old.report, '$.first_response_day') END, 0, COALESCE(json_extract(old.report, '$.fr_secs'), 0), CASE WHEN json_extract(old.report, '$.first_response_bsecs') IS NULL THEN 0 ELSE 1 END, COALESCE(json_extract(old.report, '$.first_response_bsecs'), 0), CASE WHEN json_extract(old.report, '$.fr_b') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(old.report, '$.fr_b') AS TEXT), -1) END, CASE WHEN json_extract(old.report, '$.fr_bb') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(old.report, '$.fr_bb') AS TEXT), -1) END
        UNION ALL SELECT 'resolved', json_extract(old.report, '$.resolved_day'), 0, COALESCE(json_extract(old.report, '$.res_secs'), 0), CASE WHEN json_extract(old.report, '$.resolution_bsecs') IS NULL THEN 0 ELSE 1 END, COALESCE(json_extract(old.report, '$.resolution_bsecs'), 0), CASE WHEN json_extract(old.report, '$.res_b') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(old.report, '$.res_b') AS TEXT), -1) END, CASE WHEN json_extract(old.report, '$.res_bb') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(old.report, '$.res_bb') AS TEXT), -1) END
        UNION ALL SELECT 'sla_first_response', CASE WHEN json_extract(old.report, '$.sla_fr') IS NOT NULL THEN json_extract(old.report, '$.resolved_day') END, json_extract(old.report, '$.sla_fr'), 0, 0, 0, '{}', '{}'
        UNION ALL SELECT 'sla_next_response', CASE WHEN json_extract(old.report, '$.sla_nr') IS NOT NULL THEN json_extract(old.report, '$.resolved_day') END, json_extract(old.report, '$.sla_nr'), 0, 0, 0, '{}', '{}'
        UNION ALL SELECT 'sla_resolution', CASE WHEN json_extract(old.report, '$.sla_res') IS NOT NULL THEN json_extract(old.report, '$.resolved_day') END, json_extract(old.report, '$.sla_res'), 0, 0, 0, '{}', '{}'
    ) s, (VALUES ('all', ''), ('queue', COALESCE(old.queue_id, '')), ('agent', COALESCE(old.owner_id, '')), ('priority', CAST(old.priority AS TEXT)), ('channel', old.channel), ('category', COALESCE(old.category_id, ''))) d
    WHERE s.day IS NOT NULL AND old.report IS NOT NULL AND old.deleted_at IS NULL
    ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET
        n = report_days.n + excluded.n, m = report_days.m + excluded.m, secs = report_days.secs + excluded.secs,
        bn = report_days.bn + excluded.bn, bsecs = report_days.bsecs + excluded.bsecs,
        hist = CASE WHEN excluded.hist = '{}' THEN report_days.hist ELSE (SELECT json_set(report_days.hist, '$."' || j.key || '"',
            COALESCE(json_extract(report_days.hist, '$."' || j.key || '"'), 0) + j.value) FROM json_each(excluded.hist) j) END,
        bhist = CASE WHEN excluded.bhist = '{}' THEN report_days.bhist ELSE (SELECT json_set(report_days.bhist, '$."' || j.key || '"',
            COALESCE(json_extract(report_days.bhist, '$."' || j.key || '"'), 0) + j.value) FROM json_each(excluded.bhist) j) END;
    INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
    SELECT new.org_id, s.series, d.column1, d.column2, s.day, 1, 1 * s.m, 1 * s.secs, 1 * s.bn, 1 * s.bsecs, s.hist, s.bhist
    FROM (
        SELECT 'created' AS series, json_extract(new.report, '$.created_day') AS day, 0 AS m, 0 AS secs, 0 AS bn, 0 AS bsecs, '{}' AS hist, '{}' AS bhist
        UNION ALL SELECT 'first_response', CASE WHEN json_extract(new.report, '$.fr_secs') IS NOT NULL THEN json_extract(new.report, '$.first_response_day') END, 0, COALESCE(json_extract(new.report, '$.fr_secs'), 0), CASE WHEN json_extract(new.report, '$.first_response_bsecs') IS NULL THEN 0 ELSE 1 END, COALESCE(json_extract(new.report, '$.first_response_bsecs'), 0), CASE WHEN json_extract(new.report, '$.fr_b') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(new.report, '$.fr_b') AS TEXT), 1) END, CASE WHEN json_extract(new.report, '$.fr_bb') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(new.report, '$.fr_bb') AS TEXT), 1) END
        UNION ALL SELECT 'resolved', json_extract(new.report, '$.resolved_day'), 0, COALESCE(json_extract(new.report, '$.res_secs'), 0), CASE WHEN json_extract(new.report, '$.resolution_bsecs') IS NULL THEN 0 ELSE 1 END, COALESCE(json_extract(new.report, '$.resolution_bsecs'), 0), CASE WHEN json_extract(new.report, '$.res_b') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(new.report, '$.res_b') AS TEXT), 1) END, CASE WHEN json_extract(new.report, '$.res_bb') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(new.report, '$.res_bb') AS TEXT), 1) END
        UNION ALL SELECT 'sla_first_response', CASE WHEN json_extract(new.report, '$.sla_fr') IS NOT NULL THEN json_extract(new.report, '$.resolved_day') END, json_extract(new.report, '$.sla_fr'), 0, 0, 0, '{}', '{}'
        UNION ALL SELECT 'sla_next_response', CASE WHEN json_extract(new.report, '$.sla_nr') IS NOT NULL THEN json_extract(new.report, '$.resolved_day') END, json_extract(new.report, '$.sla_nr'), 0, 0, 0, '{}', '{}'
        UNION ALL SELECT 'sla_resolution', CASE WHEN json_extract(new.report, '$.sla_res') IS NOT NULL THEN json_extract(new.report, '$.resolved_day') END, json_extract(new.report, '$.sla_res'), 0, 0, 0, '{}', '{}'
    ) s, (VALUES ('all', ''), ('queue', COALESCE(new.queue_id, '')), ('agent', COALESCE(new.owner_id, '')), ('priority', CAST(new.priority AS TEXT)), ('channel', new.channel), ('category', COALESCE(new.category_id, ''))) d
    WHERE s.day IS NOT NULL AND new.report IS NOT NULL AND new.deleted_at IS NULL
    ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET
        n = report_days.n + excluded.n, m = report_days.m + excluded.m, secs = report_days.secs + excluded.secs,
        bn = report_days.bn + excluded.bn, bsecs = report_days.bsecs + excluded.bsecs,
        hist = CASE WHEN excluded.hist = '{}' THEN report_days.hist ELSE (SELECT json_set(report_days.hist, '$."' || j.key || '"',
            COALESCE(json_extract(report_days.hist, '$."' || j.key || '"'), 0) + j.value) FROM json_each(excluded.hist) j) END,
        bhist = CASE WHEN excluded.bhist = '{}' THEN report_days.bhist ELSE (SELECT json_set(report_days.bhist, '$."' || j.key || '"',
            COALESCE(json_extract(report_days.bhist, '$."' || j.key || '"'), 0) + j.value) FROM json_each(excluded.bhist) j) END;
END;

-- Cases written before this migration get their days from UTC and their resolution time in
-- calendar seconds (bucketed as the code does); their next write recomputes them in the org's time zone.
UPDATE cases SET report = CASE WHEN resolved_at IS NULL OR status NOT IN ('resolved', 'closed')
    THEN json_object('created_day', created_at / 86400000000)
    ELSE json_object('created_day', created_at / 86400000000, 'resolved_day', resolved_at / 86400000000,
        'res_secs', MAX(((resolved_at - created_at) / 1000000), 0), 'res_b', CASE WHEN ((resolved_at - created_at) / 1000000) < 60 THEN 0 WHEN ((resolved_at - created_at) / 1000000) < 71 THEN 1 WHEN ((resolved_at - created_at) / 1000000) < 85 THEN 2 WHEN ((resolved_at - created_at) / 1000000) < 101 THEN 3 WHEN ((resolved_at - created_at) / 1000000) < 120 THEN 4 WHEN ((resolved_at - created_at) / 1000000) < 143 THEN 5 WHEN ((resolved_at - created_at) / 1000000) < 170 THEN 6 WHEN ((resolved_at - created_at) / 1000000) < 202 THEN 7 WHEN ((resolved_at - created_at) / 1000000) < 240 THEN 8 WHEN ((resolved_at - created_at) / 1000000) < 285 THEN 9 WHEN ((resolved_at - created_at) / 1000000) < 339 THEN 10 WHEN ((resolved_at - created_at) / 1000000) < 404 THEN 11 WHEN ((resolved_at - created_at) / 1000000) < 480 THEN 12 WHEN ((resolved_at - created_at) / 1000000) < 571 THEN 13 WHEN ((resolved_at - created_at) / 1000000) < 679 THEN 14 WHEN ((resolved_at - created_at) / 1000000) < 807 THEN 15 WHEN ((resolved_at - created_at) / 1000000) < 960 THEN 16 WHEN ((resolved_at - created_at) / 1000000) < 1142 THEN 17 WHEN ((resolved_at - created_at) / 1000000) < 1358 THEN 18 WHEN ((resolved_at - created_at) / 1000000) < 1615 THEN 19 WHEN ((resolved_at - created_at) / 1000000) < 1920 THEN 20 WHEN ((resolved_at - created_at) / 1000000) < 2283 THEN 21 WHEN ((resolved_at - created_at) / 1000000) < 2715 THEN 22 WHEN ((resolved_at - created_at) / 1000000) < 3229 THEN 23 WHEN ((resolved_at - created_at) / 1000000) < 3840 THEN 24 WHEN ((resolved_at - created_at) / 1000000) < 4567 THEN 25 WHEN ((resolved_at - created_at) / 1000000) < 5431 THEN 26 WHEN ((resolved_at - created_at) / 1000000) < 6458 THEN 27 WHEN ((resolved_at - created_at) / 1000000) < 7680 THEN 28 WHEN ((resolved_at - created_at) / 1000000) < 9133 THEN 29 WHEN ((resolved_at - created_at) / 1000000) < 10861 THEN 30 WHEN ((resolved_at - created_at) / 1000000) < 12916 THEN 31 WHEN ((resolved_at - created_at) / 1000000) < 15360 THEN 32 WHEN ((resolved_at - created_at) / 1000000) < 18266 THEN 33 WHEN ((resolved_at - created_at) / 1000000) < 21722 THEN 34 WHEN ((resolved_at - created_at) / 1000000) < 25832 THEN 35 WHEN ((resolved_at - created_at) / 1000000) < 30720 THEN 36 WHEN ((resolved_at - created_at) / 1000000) < 36532 THEN 37 WHEN ((resolved_at - created_at) / 1000000) < 43445 THEN 38 WHEN ((resolved_at - created_at) / 1000000) < 51665 THEN 39 WHEN ((resolved_at - created_at) / 1000000) < 61440 THEN 40 WHEN ((resolved_at - created_at) / 1000000) < 73065 THEN 41 WHEN ((resolved_at - created_at) / 1000000) < 86889 THEN 42 WHEN ((resolved_at - created_at) / 1000000) < 103329 THEN 43 WHEN ((resolved_at - created_at) / 1000000) < 122880 THEN 44 WHEN ((resolved_at - created_at) / 1000000) < 146130 THEN 45 WHEN ((resolved_at - created_at) / 1000000) < 173779 THEN 46 WHEN ((resolved_at - created_at) / 1000000) < 206659 THEN 47 WHEN ((resolved_at - created_at) / 1000000) < 245760 THEN 48 WHEN ((resolved_at - created_at) / 1000000) < 292260 THEN 49 WHEN ((resolved_at - created_at) / 1000000) < 347557 THEN 50 WHEN ((resolved_at - created_at) / 1000000) < 413317 THEN 51 WHEN ((resolved_at - created_at) / 1000000) < 491520 THEN 52 WHEN ((resolved_at - created_at) / 1000000) < 584519 THEN 53 WHEN ((resolved_at - created_at) / 1000000) < 695114 THEN 54 WHEN ((resolved_at - created_at) / 1000000) < 826635 THEN 55 WHEN ((resolved_at - created_at) / 1000000) < 983040 THEN 56 WHEN ((resolved_at - created_at) / 1000000) < 1169038 THEN 57 WHEN ((resolved_at - created_at) / 1000000) < 1390229 THEN 58 WHEN ((resolved_at - created_at) / 1000000) < 1653270 THEN 59 WHEN ((resolved_at - created_at) / 1000000) < 1966080 THEN 60 WHEN ((resolved_at - created_at) / 1000000) < 2338076 THEN 61 WHEN ((resolved_at - created_at) / 1000000) < 2780457 THEN 62 WHEN ((resolved_at - created_at) / 1000000) < 3306539 THEN 63 WHEN ((resolved_at - created_at) / 1000000) < 3932160 THEN 64 WHEN ((resolved_at - created_at) / 1000000) < 4676153 THEN 65 WHEN ((resolved_at - created_at) / 1000000) < 5560914 THEN 66 WHEN ((resolved_at - created_at) / 1000000) < 6613078 THEN 67 WHEN ((resolved_at - created_at) / 1000000) < 7864320 THEN 68 WHEN ((resolved_at - created_at) / 1000000) < 9352305 THEN 69 WHEN ((resolved_at - created_at) / 1000000) < 11121828 THEN 70 WHEN ((resolved_at - created_at) / 1000000) < 13226157 THEN 71 WHEN ((resolved_at - created_at) / 1000000) < 15728640 THEN 72 WHEN ((resolved_at - created_at) / 1000000) < 18704611 THEN 73 WHEN ((resolved_at - created_at) / 1000000) < 22243656 THEN 74 WHEN ((resolved_at - created_at) / 1000000) < 26452314 THEN 75 WHEN ((resolved_at - created_at) / 1000000) < 31457280 THEN 76 WHEN ((resolved_at - created_at) / 1000000) < 37409221 THEN 77 WHEN ((resolved_at - created_at) / 1000000) < 44487312 THEN 78 ELSE 79 END) END
WHERE report IS NULL;
