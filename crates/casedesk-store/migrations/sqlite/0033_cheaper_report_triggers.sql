-- Cheaper report triggers. Those of 0022 evaluated every series (created, first response,
-- resolved, three SLA targets) for every grouping, reading the case's report JSON some fifty
-- times per case and statement, although most cases are only in the "created" series until
-- they are answered: on SQLite that was two thirds of the cost of writing a new case. Each
-- trigger is now two: one that moves only the created day (six small upserts), and one that
-- runs the other series exactly as before, only when the old or new report has an answer or a
-- resolution (the same rows, the same totals).

DROP TRIGGER report_days_insert;
DROP TRIGGER report_days_delete;
DROP TRIGGER report_days_update;

CREATE TRIGGER report_days_insert AFTER INSERT ON cases WHEN new.report IS NOT NULL AND new.deleted_at IS NULL BEGIN
    INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
    SELECT new.org_id, 'created', d.column1, d.column2, json_extract(new.report, '$.created_day'), 1, 0, 0, 0, 0, '{}', '{}'
    FROM (VALUES ('all', ''), ('queue', COALESCE(new.queue_id, '')), ('agent', COALESCE(new.owner_id, '')), ('priority', CAST(new.priority AS TEXT)), ('channel', new.channel), ('category', COALESCE(new.category_id, ''))) d
    WHERE json_extract(new.report, '$.created_day') IS NOT NULL AND new.report IS NOT NULL AND new.deleted_at IS NULL
    ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET n = report_days.n + excluded.n;
END;

CREATE TRIGGER report_days_insert_answered AFTER INSERT ON cases
WHEN new.report IS NOT NULL AND new.deleted_at IS NULL AND (json_extract(new.report, '$.first_response_day') IS NOT NULL OR json_extract(new.report, '$.resolved_day') IS NOT NULL) BEGIN
    INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
    SELECT new.org_id, s.series, d.column1, d.column2, s.day, 1, 1 * s.m, 1 * s.secs, 1 * s.bn, 1 * s.bsecs, s.hist, s.bhist
    FROM (
        SELECT 'first_response' AS series, CASE WHEN json_extract(new.report, '$.fr_secs') IS NOT NULL THEN json_extract(new.report, '$.first_response_day') END AS day, 0 AS m, COALESCE(json_extract(new.report, '$.fr_secs'), 0) AS secs, CASE WHEN json_extract(new.report, '$.first_response_bsecs') IS NULL THEN 0 ELSE 1 END AS bn, COALESCE(json_extract(new.report, '$.first_response_bsecs'), 0) AS bsecs, CASE WHEN json_extract(new.report, '$.fr_b') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(new.report, '$.fr_b') AS TEXT), 1) END AS hist, CASE WHEN json_extract(new.report, '$.fr_bb') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(new.report, '$.fr_bb') AS TEXT), 1) END AS bhist
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
    SELECT old.org_id, 'created', d.column1, d.column2, json_extract(old.report, '$.created_day'), -1, 0, 0, 0, 0, '{}', '{}'
    FROM (VALUES ('all', ''), ('queue', COALESCE(old.queue_id, '')), ('agent', COALESCE(old.owner_id, '')), ('priority', CAST(old.priority AS TEXT)), ('channel', old.channel), ('category', COALESCE(old.category_id, ''))) d
    WHERE json_extract(old.report, '$.created_day') IS NOT NULL AND old.report IS NOT NULL AND old.deleted_at IS NULL
    ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET n = report_days.n + excluded.n;
END;

CREATE TRIGGER report_days_delete_answered AFTER DELETE ON cases
WHEN old.report IS NOT NULL AND old.deleted_at IS NULL AND (json_extract(old.report, '$.first_response_day') IS NOT NULL OR json_extract(old.report, '$.resolved_day') IS NOT NULL) BEGIN
    INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
    SELECT old.org_id, s.series, d.column1, d.column2, s.day, -1, -1 * s.m, -1 * s.secs, -1 * s.bn, -1 * s.bsecs, s.hist, s.bhist
    FROM (
        SELECT 'first_response' AS series, CASE WHEN json_extract(old.report, '$.fr_secs') IS NOT NULL THEN json_extract(old.report, '$.first_response_day') END AS day, 0 AS m, COALESCE(json_extract(old.report, '$.fr_secs'), 0) AS secs, CASE WHEN json_extract(old.report, '$.first_response_bsecs') IS NULL THEN 0 ELSE 1 END AS bn, COALESCE(json_extract(old.report, '$.first_response_bsecs'), 0) AS bsecs, CASE WHEN json_extract(old.report, '$.fr_b') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(old.report, '$.fr_b') AS TEXT), -1) END AS hist, CASE WHEN json_extract(old.report, '$.fr_bb') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(old.report, '$.fr_bb') AS TEXT), -1) END AS bhist
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
WHEN (old.report IS NOT new.report OR old.queue_id IS NOT new.queue_id OR old.owner_id IS NOT new.owner_id
    OR old.priority IS NOT new.priority OR old.channel IS NOT new.channel OR old.category_id IS NOT new.category_id
    OR old.deleted_at IS NOT new.deleted_at) BEGIN
    INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
    SELECT old.org_id, 'created', d.column1, d.column2, json_extract(old.report, '$.created_day'), -1, 0, 0, 0, 0, '{}', '{}'
    FROM (VALUES ('all', ''), ('queue', COALESCE(old.queue_id, '')), ('agent', COALESCE(old.owner_id, '')), ('priority', CAST(old.priority AS TEXT)), ('channel', old.channel), ('category', COALESCE(old.category_id, ''))) d
    WHERE json_extract(old.report, '$.created_day') IS NOT NULL AND old.report IS NOT NULL AND old.deleted_at IS NULL
    ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET n = report_days.n + excluded.n;
    INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
    SELECT new.org_id, 'created', d.column1, d.column2, json_extract(new.report, '$.created_day'), 1, 0, 0, 0, 0, '{}', '{}'
    FROM (VALUES ('all', ''), ('queue', COALESCE(new.queue_id, '')), ('agent', COALESCE(new.owner_id, '')), ('priority', CAST(new.priority AS TEXT)), ('channel', new.channel), ('category', COALESCE(new.category_id, ''))) d
    WHERE json_extract(new.report, '$.created_day') IS NOT NULL AND new.report IS NOT NULL AND new.deleted_at IS NULL
    ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET n = report_days.n + excluded.n;
END;

CREATE TRIGGER report_days_update_answered AFTER UPDATE ON cases
WHEN (old.report IS NOT new.report OR old.queue_id IS NOT new.queue_id OR old.owner_id IS NOT new.owner_id
    OR old.priority IS NOT new.priority OR old.channel IS NOT new.channel OR old.category_id IS NOT new.category_id
    OR old.deleted_at IS NOT new.deleted_at)
    AND (json_extract(old.report, '$.first_response_day') IS NOT NULL OR json_extract(old.report, '$.resolved_day') IS NOT NULL
        OR json_extract(new.report, '$.first_response_day') IS NOT NULL OR json_extract(new.report, '$.resolved_day') IS NOT NULL) BEGIN
    INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
    SELECT old.org_id, s.series, d.column1, d.column2, s.day, -1, -1 * s.m, -1 * s.secs, -1 * s.bn, -1 * s.bsecs, s.hist, s.bhist
    FROM (
        SELECT 'first_response' AS series, CASE WHEN json_extract(old.report, '$.fr_secs') IS NOT NULL THEN json_extract(old.report, '$.first_response_day') END AS day, 0 AS m, COALESCE(json_extract(old.report, '$.fr_secs'), 0) AS secs, CASE WHEN json_extract(old.report, '$.first_response_bsecs') IS NULL THEN 0 ELSE 1 END AS bn, COALESCE(json_extract(old.report, '$.first_response_bsecs'), 0) AS bsecs, CASE WHEN json_extract(old.report, '$.fr_b') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(old.report, '$.fr_b') AS TEXT), -1) END AS hist, CASE WHEN json_extract(old.report, '$.fr_bb') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(old.report, '$.fr_bb') AS TEXT), -1) END AS bhist
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
        SELECT 'first_response' AS series, CASE WHEN json_extract(new.report, '$.fr_secs') IS NOT NULL THEN json_extract(new.report, '$.first_response_day') END AS day, 0 AS m, COALESCE(json_extract(new.report, '$.fr_secs'), 0) AS secs, CASE WHEN json_extract(new.report, '$.first_response_bsecs') IS NULL THEN 0 ELSE 1 END AS bn, COALESCE(json_extract(new.report, '$.first_response_bsecs'), 0) AS bsecs, CASE WHEN json_extract(new.report, '$.fr_b') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(new.report, '$.fr_b') AS TEXT), 1) END AS hist, CASE WHEN json_extract(new.report, '$.fr_bb') IS NULL THEN '{}' ELSE json_object(CAST(json_extract(new.report, '$.fr_bb') AS TEXT), 1) END AS bhist
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
