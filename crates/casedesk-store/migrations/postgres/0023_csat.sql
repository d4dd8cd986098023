-- Customer satisfaction surveys (docs/reports.md#csat): the organization's settings and one
-- survey per resolution of a case, sent by the mail dispatcher. Only the SHA-256 of a survey
-- link's token is kept. Answers count in reports under series 'csat' of `report_days`, grouped
-- by the case as it was when resolved (copied into the survey), on the day of the first answer.

CREATE TABLE csat_settings (
    org_id TEXT PRIMARY KEY REFERENCES organizations(id),
    enabled BOOLEAN NOT NULL,
    scale TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE csat_surveys (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    case_id TEXT NOT NULL,
    requester_id TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scale TEXT NOT NULL,
    score BIGINT,
    comment TEXT,
    resolved_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    answered_at BIGINT,
    answered_day INTEGER,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    queue_id TEXT,
    owner_id TEXT,
    priority BIGINT NOT NULL,
    channel TEXT NOT NULL,
    category_id TEXT
);
CREATE INDEX csat_surveys_case ON csat_surveys(case_id, created_at, id);

CREATE FUNCTION csat_report_add(c csat_surveys, dir BIGINT) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    x record;
    pos BIGINT;
BEGIN
    IF c.score IS NULL OR c.answered_day IS NULL THEN
        RETURN;
    END IF;
    pos := CASE WHEN (c.scale = 'good_bad' AND c.score >= 1) OR (c.scale = 'one_to_five' AND c.score >= 4) THEN 1 ELSE 0 END;
    FOR x IN
        SELECT d.dim, d.key FROM (VALUES ('all', ''), ('queue', COALESCE(c.queue_id, '')), ('agent', COALESCE(c.owner_id, '')),
            ('priority', c.priority::text), ('channel', c.channel), ('category', COALESCE(c.category_id, ''))) AS d(dim, key)
        ORDER BY d.dim, d.key
    LOOP
        INSERT INTO report_days AS r (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
        VALUES (c.org_id, 'csat', x.dim, x.key, c.answered_day, dir, dir * pos, dir * c.score, 0, 0,
            jsonb_build_object(c.score::text, dir), '{}'::jsonb)
        ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET
            n = r.n + dir, m = r.m + dir * pos, secs = r.secs + dir * c.score,
            hist = jsonb_set(r.hist, ARRAY[c.score::text], to_jsonb(COALESCE((r.hist->>(c.score::text))::bigint, 0) + dir));
    END LOOP;
END
$$;

CREATE FUNCTION csat_report_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM csat_report_add(OLD, -1);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM csat_report_add(NEW, 1);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER csat_report_insert AFTER INSERT ON csat_surveys FOR EACH ROW
    WHEN (NEW.score IS NOT NULL) EXECUTE FUNCTION csat_report_track();
CREATE TRIGGER csat_report_delete AFTER DELETE ON csat_surveys FOR EACH ROW
    WHEN (OLD.score IS NOT NULL) EXECUTE FUNCTION csat_report_track();
CREATE TRIGGER csat_report_update AFTER UPDATE ON csat_surveys FOR EACH ROW
    WHEN (OLD.score IS DISTINCT FROM NEW.score OR OLD.answered_day IS DISTINCT FROM NEW.answered_day)
    EXECUTE FUNCTION csat_report_track();
