-- Organization-defined statuses (each in one of the six categories) and funnel stages.
CREATE TABLE case_statuses (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    -- NULL: pauses SLA clocks exactly when the category does (the policy's pause_statuses).
    pauses_sla BOOLEAN,
    position BIGINT NOT NULL,
    -- The status a case gets when only its category is set.
    is_default BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX case_statuses_org ON case_statuses(org_id, created_at, id);
CREATE UNIQUE INDEX case_statuses_default ON case_statuses(org_id, category) WHERE is_default;

-- Every organization has one default status per category, named after it.
INSERT INTO case_statuses (id, org_id, name, category, pauses_sla, position, is_default, created_at, updated_at)
SELECT 'cst_' || substr(o.id, 5) || '_' || c.category, o.id, c.name, c.category, CAST(NULL AS BOOLEAN), c.position, TRUE, o.created_at,
       o.created_at
FROM organizations o CROSS JOIN (
    SELECT 'new' AS category, 'New' AS name, 1 AS position
    UNION ALL SELECT 'open', 'Open', 2
    UNION ALL SELECT 'pending', 'Pending', 3
    UNION ALL SELECT 'on_hold', 'On hold', 4
    UNION ALL SELECT 'resolved', 'Resolved', 5
    UNION ALL SELECT 'closed', 'Closed', 6
) c;

CREATE TABLE funnel_stages (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    -- NULL: the stage applies to cases of every queue.
    queue_id TEXT REFERENCES case_queues(id),
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX funnel_stages_org ON funnel_stages(org_id, created_at, id);

ALTER TABLE cases ADD COLUMN custom_status_id TEXT;
ALTER TABLE cases ADD COLUMN funnel_stage_id TEXT;
CREATE INDEX cases_custom_status ON cases(org_id, custom_status_id, created_at, seq)
    WHERE custom_status_id IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX cases_funnel_stage ON cases(org_id, funnel_stage_id, created_at, seq)
    WHERE funnel_stage_id IS NOT NULL AND deleted_at IS NULL;
