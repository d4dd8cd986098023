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
    n BIGINT NOT NULL,            -- cases (targets, answers)
    m BIGINT NOT NULL,            -- targets met
    secs BIGINT NOT NULL,         -- calendar seconds
    bn BIGINT NOT NULL,           -- cases with a business duration
    bsecs BIGINT NOT NULL,        -- business seconds
    hist JSONB NOT NULL,          -- {"bucket": count} of calendar durations
    bhist JSONB NOT NULL,         -- the same of business durations
    PRIMARY KEY (org_id, series, dim, day, key)
);

-- Adds (dir 1) or takes away (dir -1) one case's contribution. Rows are written in key order, so
-- two transactions never wait on each other in a cycle here.
CREATE FUNCTION report_days_add(c cases, dir BIGINT) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    j jsonb;
    x record;
BEGIN
    IF c.report IS NULL OR c.deleted_at IS NOT NULL THEN
        RETURN;
    END IF;
    j := c.report::jsonb;
    FOR x IN
        SELECT s.series, s.day, s.m, s.secs, s.bn, s.bsecs, s.hb, s.bhb, d.dim, d.key FROM (VALUES
            ('created', (j->>'created_day')::int, 0::bigint, 0::bigint, 0::bigint, 0::bigint, NULL::text, NULL::text),
            ('first_response', CASE WHEN j ? 'fr_secs' THEN (j->>'first_response_day')::int END, 0, COALESCE((j->>'fr_secs')::bigint, 0),
                CASE WHEN (j->>'first_response_bsecs')::bigint IS NULL THEN 0 ELSE 1 END, COALESCE((j->>'first_response_bsecs')::bigint, 0), j->>'fr_b', j->>'fr_bb'),
            ('resolved', (j->>'resolved_day')::int, 0, COALESCE((j->>'res_secs')::bigint, 0),
                CASE WHEN (j->>'resolution_bsecs')::bigint IS NULL THEN 0 ELSE 1 END, COALESCE((j->>'resolution_bsecs')::bigint, 0), j->>'res_b', j->>'res_bb'),
            ('sla_first_response', CASE WHEN (j->>'sla_fr')::bigint IS NOT NULL THEN (j->>'resolved_day')::int END, (j->>'sla_fr')::bigint, 0, 0, 0, NULL, NULL),
            ('sla_next_response', CASE WHEN (j->>'sla_nr')::bigint IS NOT NULL THEN (j->>'resolved_day')::int END, (j->>'sla_nr')::bigint, 0, 0, 0, NULL, NULL),
            ('sla_resolution', CASE WHEN (j->>'sla_res')::bigint IS NOT NULL THEN (j->>'resolved_day')::int END, (j->>'sla_res')::bigint, 0, 0, 0, NULL, NULL)
        ) AS s(series, day, m, secs, bn, bsecs, hb, bhb)
        CROSS JOIN (VALUES ('all', ''), ('queue', COALESCE(c.queue_id, '')), ('agent', COALESCE(c.owner_id, '')),
            ('priority', c.priority::text), ('channel', c.channel), ('category', COALESCE(c.category_id, ''))) AS d(dim, key)
        WHERE s.day IS NOT NULL
        ORDER BY s.series, d.dim, s.day, d.key
    LOOP
        INSERT INTO report_days AS r (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
        VALUES (c.org_id, x.series, x.dim, x.key, x.day, dir, dir * x.m, dir * x.secs, dir * x.bn, dir * x.bsecs,
            CASE WHEN x.hb IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(x.hb, dir) END,
            CASE WHEN x.bhb IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(x.bhb, dir) END)
        ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET
            n = r.n + dir, m = r.m + dir * x.m, secs = r.secs + dir * x.secs, bn = r.bn + dir * x.bn,
            bsecs = r.bsecs + dir * x.bsecs,
            hist = CASE WHEN x.hb IS NULL THEN r.hist
                ELSE jsonb_set(r.hist, ARRAY[x.hb], to_jsonb(COALESCE((r.hist->>x.hb)::bigint, 0) + dir)) END,
            bhist = CASE WHEN x.bhb IS NULL THEN r.bhist
                ELSE jsonb_set(r.bhist, ARRAY[x.bhb], to_jsonb(COALESCE((r.bhist->>x.bhb)::bigint, 0) + dir)) END;
    END LOOP;
END
$$;

CREATE FUNCTION report_days_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM report_days_add(OLD, -1);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM report_days_add(NEW, 1);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER report_days_insert AFTER INSERT ON cases FOR EACH ROW
    WHEN (NEW.report IS NOT NULL AND NEW.deleted_at IS NULL) EXECUTE FUNCTION report_days_track();
CREATE TRIGGER report_days_delete AFTER DELETE ON cases FOR EACH ROW
    WHEN (OLD.report IS NOT NULL AND OLD.deleted_at IS NULL) EXECUTE FUNCTION report_days_track();
CREATE TRIGGER report_days_update AFTER UPDATE ON cases FOR EACH ROW
    WHEN (OLD.report IS DISTINCT FROM NEW.report OR OLD.queue_id IS DISTINCT FROM NEW.queue_id
        OR OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.priority IS DISTINCT FROM NEW.priority
        OR OLD.channel IS DISTINCT FROM NEW.channel OR OLD.category_id IS DISTINCT FROM NEW.category_id
        OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
    EXECUTE FUNCTION report_days_track();

-- Cases written before this migration get their days from UTC and their resolution time in
-- calendar seconds (bucketed as the code does); their next write recomputes them in the org's time zone.
UPDATE cases SET report = CASE WHEN resolved_at IS NULL OR status NOT IN ('resolved', 'closed')
    THEN json_build_object('created_day', created_at / 86400000000)::text
    ELSE json_build_object('created_day', created_at / 86400000000, 'resolved_day', resolved_at / 86400000000,
        'res_secs', GREATEST(((resolved_at - created_at) / 1000000), 0), 'res_b', CASE WHEN ((resolved_at - created_at) / 1000000) < 60 THEN 0 WHEN ((resolved_at - created_at) / 1000000) < 71 THEN 1 WHEN ((resolved_at - created_at) / 1000000) < 85 THEN 2 WHEN ((resolved_at - created_at) / 1000000) < 101 THEN 3 WHEN ((resolved_at - created_at) / 1000000) < 120 THEN 4 WHEN ((resolved_at - created_at) / 1000000) < 143 THEN 5 WHEN ((resolved_at - created_at) / 1000000) < 170 THEN 6 WHEN ((resolved_at - created_at) / 1000000) < 202 THEN 7 WHEN ((resolved_at - created_at) / 1000000) < 240 THEN 8 WHEN ((resolved_at - created_at) / 1000000) < 285 THEN 9 WHEN ((resolved_at - created_at) / 1000000) < 339 THEN 10 WHEN ((resolved_at - created_at) / 1000000) < 404 THEN 11 WHEN ((resolved_at - created_at) / 1000000) < 480 THEN 12 WHEN ((resolved_at - created_at) / 1000000) < 571 THEN 13 WHEN ((resolved_at - created_at) / 1000000) < 679 THEN 14 WHEN ((resolved_at - created_at) / 1000000) < 807 THEN 15 WHEN ((resolved_at - created_at) / 1000000) < 960 THEN 16 WHEN ((resolved_at - created_at) / 1000000) < 1142 THEN 17 WHEN ((resolved_at - created_at) / 1000000) < 1358 THEN 18 WHEN ((resolved_at - created_at) / 1000000) < 1615 THEN 19 WHEN ((resolved_at - created_at) / 1000000) < 1920 THEN 20 WHEN ((resolved_at - created_at) / 1000000) < 2283 THEN 21 WHEN ((resolved_at - created_at) / 1000000) < 2715 THEN 22 WHEN ((resolved_at - created_at) / 1000000) < 3229 THEN 23 WHEN ((resolved_at - created_at) / 1000000) < 3840 THEN 24 WHEN ((resolved_at - created_at) / 1000000) < 4567 THEN 25 WHEN ((resolved_at - created_at) / 1000000) < 5431 THEN 26 WHEN ((resolved_at - created_at) / 1000000) < 6458 THEN 27 WHEN ((resolved_at - created_at) / 1000000) < 7680 THEN 28 WHEN ((resolved_at - created_at) / 1000000) < 9133 THEN 29 WHEN ((resolved_at - created_at) / 1000000) < 10861 THEN 30 WHEN ((resolved_at - created_at) / 1000000) < 12916 THEN 31 WHEN ((resolved_at - created_at) / 1000000) < 15360 THEN 32 WHEN ((resolved_at - created_at) / 1000000) < 18266 THEN 33 WHEN ((resolved_at - created_at) / 1000000) < 21722 THEN 34 WHEN ((resolved_at - created_at) / 1000000) < 25832 THEN 35 WHEN ((resolved_at - created_at) / 1000000) < 30720 THEN 36 WHEN ((resolved_at - created_at) / 1000000) < 36532 THEN 37 WHEN ((resolved_at - created_at) / 1000000) < 43445 THEN 38 WHEN ((resolved_at - created_at) / 1000000) < 51665 THEN 39 WHEN ((resolved_at - created_at) / 1000000) < 61440 THEN 40 WHEN ((resolved_at - created_at) / 1000000) < 73065 THEN 41 WHEN ((resolved_at - created_at) / 1000000) < 86889 THEN 42 WHEN ((resolved_at - created_at) / 1000000) < 103329 THEN 43 WHEN ((resolved_at - created_at) / 1000000) < 122880 THEN 44 WHEN ((resolved_at - created_at) / 1000000) < 146130 THEN 45 WHEN ((resolved_at - created_at) / 1000000) < 173779 THEN 46 WHEN ((resolved_at - created_at) / 1000000) < 206659 THEN 47 WHEN ((resolved_at - created_at) / 1000000) < 245760 THEN 48 WHEN ((resolved_at - created_at) / 1000000) < 292260 THEN 49 WHEN ((resolved_at - created_at) / 1000000) < 347557 THEN 50 WHEN ((resolved_at - created_at) / 1000000) < 413317 THEN 51 WHEN ((resolved_at - created_at) / 1000000) < 491520 THEN 52 WHEN ((resolved_at - created_at) / 1000000) < 584519 THEN 53 WHEN ((resolved_at - created_at) / 1000000) < 695114 THEN 54 WHEN ((resolved_at - created_at) / 1000000) < 826635 THEN 55 WHEN ((resolved_at - created_at) / 1000000) < 983040 THEN 56 WHEN ((resolved_at - created_at) / 1000000) < 1169038 THEN 57 WHEN ((resolved_at - created_at) / 1000000) < 1390229 THEN 58 WHEN ((resolved_at - created_at) / 1000000) < 1653270 THEN 59 WHEN ((resolved_at - created_at) / 1000000) < 1966080 THEN 60 WHEN ((resolved_at - created_at) / 1000000) < 2338076 THEN 61 WHEN ((resolved_at - created_at) / 1000000) < 2780457 THEN 62 WHEN ((resolved_at - created_at) / 1000000) < 3306539 THEN 63 WHEN ((resolved_at - created_at) / 1000000) < 3932160 THEN 64 WHEN ((resolved_at - created_at) / 1000000) < 4676153 THEN 65 WHEN ((resolved_at - created_at) / 1000000) < 5560914 THEN 66 WHEN ((resolved_at - created_at) / 1000000) < 6613078 THEN 67 WHEN ((resolved_at - created_at) / 1000000) < 7864320 THEN 68 WHEN ((resolved_at - created_at) / 1000000) < 9352305 THEN 69 WHEN ((resolved_at - created_at) / 1000000) < 11121828 THEN 70 WHEN ((resolved_at - created_at) / 1000000) < 13226157 THEN 71 WHEN ((resolved_at - created_at) / 1000000) < 15728640 THEN 72 WHEN ((resolved_at - created_at) / 1000000) < 18704611 THEN 73 WHEN ((resolved_at - created_at) / 1000000) < 22243656 THEN 74 WHEN ((resolved_at - created_at) / 1000000) < 26452314 THEN 75 WHEN ((resolved_at - created_at) / 1000000) < 31457280 THEN 76 WHEN ((resolved_at - created_at) / 1000000) < 37409221 THEN 77 WHEN ((resolved_at - created_at) / 1000000) < 44487312 THEN 78 ELSE 79 END)::text END
WHERE report IS NULL;
