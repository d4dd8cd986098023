-- Queues with members and routing, business calendars, SLA policies and case clocks.
ALTER TABLE organizations ADD COLUMN auto_close_days BIGINT NOT NULL DEFAULT 4;
ALTER TABLE organizations ADD COLUMN default_sla BOOLEAN NOT NULL DEFAULT FALSE;

-- Capacity (most active cases at once; NULL = no limit) and the last time the router handed
-- this agent a case (least-active tie-break: who waited longest).
ALTER TABLE users ADD COLUMN max_open_cases BIGINT;
ALTER TABLE users ADD COLUMN last_assigned_at BIGINT;

CREATE TABLE business_calendars (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    hours TEXT NOT NULL,    -- {"monday": [["09:00","12:00"], ["13:00","17:00"]], …}
    holidays TEXT NOT NULL, -- [{"date": "2026-12-25", "name": "Christmas"}, …]
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX business_calendars_org ON business_calendars(org_id, created_at, id);

CREATE TABLE sla_policies (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    calendar_id TEXT REFERENCES business_calendars(id),
    rules TEXT NOT NULL,          -- [{"priority": "high", "first_response_minutes": 60, …}]
    pause_statuses TEXT NOT NULL, -- ["pending", "on_hold"]
    warn_percent BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX sla_policies_org ON sla_policies(org_id, created_at, id);

ALTER TABLE case_queues ADD COLUMN sla_policy_id TEXT REFERENCES sla_policies(id);
ALTER TABLE case_queues ADD COLUMN calendar_id TEXT REFERENCES business_calendars(id);
ALTER TABLE case_queues ADD COLUMN vip_tiers TEXT NOT NULL DEFAULT '["vip"]';
ALTER TABLE case_queues ADD COLUMN vip_priority BIGINT;
ALTER TABLE case_queues ADD COLUMN escalation_queue_id TEXT REFERENCES case_queues(id);
-- Round robin: the member who got the last turn; the next turn goes to the next member after them.
ALTER TABLE case_queues ADD COLUMN rr_last_user_id TEXT;

CREATE TABLE queue_members (
    queue_id TEXT NOT NULL REFERENCES case_queues(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    org_id TEXT NOT NULL,
    role TEXT NOT NULL,
    skills TEXT NOT NULL,
    vip BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (queue_id, user_id)
);
CREATE INDEX queue_members_user ON queue_members(user_id);

ALTER TABLE cases ADD COLUMN required_skills TEXT NOT NULL DEFAULT '[]';
ALTER TABLE cases ADD COLUMN problem_id TEXT;
-- The SLA clocks as JSON, and what is derived from them for filters and the sweep.
ALTER TABLE cases ADD COLUMN sla TEXT;
ALTER TABLE cases ADD COLUMN sla_policy_id TEXT;
ALTER TABLE cases ADD COLUMN sla_breached BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE cases ADD COLUMN sla_due_at BIGINT;
ALTER TABLE cases ADD COLUMN sla_check_at BIGINT;
CREATE INDEX cases_sla_check ON cases(sla_check_at) WHERE sla_check_at IS NOT NULL;
CREATE INDEX cases_sla_breached ON cases(org_id, created_at, seq) WHERE sla_breached AND deleted_at IS NULL;
CREATE INDEX cases_sla_due ON cases(org_id, sla_due_at) WHERE sla_due_at IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX cases_sla_policy ON cases(sla_policy_id) WHERE sla_policy_id IS NOT NULL;
CREATE INDEX cases_problem ON cases(problem_id) WHERE problem_id IS NOT NULL;
CREATE INDEX cases_owner_active ON cases(owner_id, status)
    WHERE deleted_at IS NULL AND status IN ('new', 'open', 'pending', 'on_hold');
CREATE INDEX cases_unassigned ON cases(queue_id, priority, created_at)
    WHERE owner_id IS NULL AND deleted_at IS NULL AND status IN ('new', 'open', 'pending', 'on_hold');
CREATE INDEX cases_resolved ON cases(resolved_at) WHERE status = 'resolved' AND deleted_at IS NULL;

-- Who wrote a comment: an agent, the customer (recorded by an agent or arriving by email or the
-- portal), or the system (automatic messages, which never count as a response).
ALTER TABLE comments ADD COLUMN author_type TEXT NOT NULL DEFAULT 'agent';
