-- Customer satisfaction surveys (docs/reports.md#csat): the organization's settings and one
-- survey per resolution of a case, sent by the mail dispatcher. Only the SHA-256 of a survey
-- link's token is kept. Answers count in reports under series 'csat' of `report_days`, grouped
-- by the case as it was when resolved (copied into the survey), on the day of the first answer.

CREATE TABLE csat_settings (
    org_id TEXT PRIMARY KEY REFERENCES organizations(id),
    enabled BOOLEAN NOT NULL,
    scale TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE csat_surveys (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    case_id TEXT NOT NULL,
    requester_id TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scale TEXT NOT NULL,
    score INTEGER,
    comment TEXT,
    resolved_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    answered_at INTEGER,
    answered_day INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    queue_id TEXT,
    owner_id TEXT,
    priority INTEGER NOT NULL,
    channel TEXT NOT NULL,
    category_id TEXT
);
CREATE INDEX csat_surveys_case ON csat_surveys(case_id, created_at, id);

CREATE TRIGGER csat_report_insert AFTER INSERT ON csat_surveys WHEN new.score IS NOT NULL BEGIN
    INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
    SELECT new.org_id, 'csat', d.column1, d.column2, new.answered_day, 1, 1 * (CASE WHEN (new.scale = 'good_bad' AND new.score >= 1) OR (new.scale = 'one_to_five' AND new.score >= 4) THEN 1 ELSE 0 END), 1 * new.score, 0, 0,
        json_object(CAST(new.score AS TEXT), 1), '{}'
    FROM (VALUES ('all', ''), ('queue', COALESCE(new.queue_id, '')), ('agent', COALESCE(new.owner_id, '')), ('priority', CAST(new.priority AS TEXT)), ('channel', new.channel), ('category', COALESCE(new.category_id, ''))) d
    WHERE new.score IS NOT NULL AND new.answered_day IS NOT NULL
    ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET
        n = report_days.n + excluded.n, m = report_days.m + excluded.m, secs = report_days.secs + excluded.secs,
        hist = (SELECT json_set(report_days.hist, '$."' || j.key || '"',
            COALESCE(json_extract(report_days.hist, '$."' || j.key || '"'), 0) + j.value) FROM json_each(excluded.hist) j);
END;

CREATE TRIGGER csat_report_delete AFTER DELETE ON csat_surveys WHEN old.score IS NOT NULL BEGIN
    INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
    SELECT old.org_id, 'csat', d.column1, d.column2, old.answered_day, -1, -1 * (CASE WHEN (old.scale = 'good_bad' AND old.score >= 1) OR (old.scale = 'one_to_five' AND old.score >= 4) THEN 1 ELSE 0 END), -1 * old.score, 0, 0,
        json_object(CAST(old.score AS TEXT), -1), '{}'
    FROM (VALUES ('all', ''), ('queue', COALESCE(old.queue_id, '')), ('agent', COALESCE(old.owner_id, '')), ('priority', CAST(old.priority AS TEXT)), ('channel', old.channel), ('category', COALESCE(old.category_id, ''))) d
    WHERE old.score IS NOT NULL AND old.answered_day IS NOT NULL
    ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET
        n = report_days.n + excluded.n, m = report_days.m + excluded.m, secs = report_days.secs + excluded.secs,
        hist = (SELECT json_set(report_days.hist, '$."' || j.key || '"',
            COALESCE(json_extract(report_days.hist, '$."' || j.key || '"'), 0) + j.value) FROM json_each(excluded.hist) j);
END;

CREATE TRIGGER csat_report_update AFTER UPDATE ON csat_surveys
WHEN old.score IS NOT new.score OR old.answered_day IS NOT new.answered_day BEGIN
    INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
    SELECT old.org_id, 'csat', d.column1, d.column2, old.answered_day, -1, -1 * (CASE WHEN (old.scale = 'good_bad' AND old.score >= 1) OR (old.scale = 'one_to_five' AND old.score >= 4) THEN 1 ELSE 0 END), -1 * old.score, 0, 0,
        json_object(CAST(old.score AS TEXT), -1), '{}'
    FROM (VALUES ('all', ''), ('queue', COALESCE(old.queue_id, '')), ('agent', COALESCE(old.owner_id, '')), ('priority', CAST(old.priority AS TEXT)), ('channel', old.channel), ('category', COALESCE(old.category_id, ''))) d
    WHERE old.score IS NOT NULL AND old.answered_day IS NOT NULL
    ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET
        n = report_days.n + excluded.n, m = report_days.m + excluded.m, secs = report_days.secs + excluded.secs,
        hist = (SELECT json_set(report_days.hist, '$."' || j.key || '"',
            COALESCE(json_extract(report_days.hist, '$."' || j.key || '"'), 0) + j.value) FROM json_each(excluded.hist) j);
    INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
    SELECT new.org_id, 'csat', d.column1, d.column2, new.answered_day, 1, 1 * (CASE WHEN (new.scale = 'good_bad' AND new.score >= 1) OR (new.scale = 'one_to_five' AND new.score >= 4) THEN 1 ELSE 0 END), 1 * new.score, 0, 0,
        json_object(CAST(new.score AS TEXT), 1), '{}'
    FROM (VALUES ('all', ''), ('queue', COALESCE(new.queue_id, '')), ('agent', COALESCE(new.owner_id, '')), ('priority', CAST(new.priority AS TEXT)), ('channel', new.channel), ('category', COALESCE(new.category_id, ''))) d
    WHERE new.score IS NOT NULL AND new.answered_day IS NOT NULL
    ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET
        n = report_days.n + excluded.n, m = report_days.m + excluded.m, secs = report_days.secs + excluded.secs,
        hist = (SELECT json_set(report_days.hist, '$."' || j.key || '"',
            COALESCE(json_extract(report_days.hist, '$."' || j.key || '"'), 0) + j.value) FROM json_each(excluded.hist) j);
END;
