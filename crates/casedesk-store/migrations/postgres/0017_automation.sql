-- Automation rules, their runs, in-app notifications and macros.
CREATE TABLE automation_rules (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    trigger_kind TEXT NOT NULL,
    after_minutes BIGINT,
    conditions TEXT NOT NULL,
    actions TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    position BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX automation_rules_org ON automation_rules(org_id, created_at, id);
CREATE INDEX automation_rules_trigger ON automation_rules(org_id, trigger_kind, position) WHERE active;

-- Where each organization's rule evaluator stands in its change feed (as webhook_cursors).
-- Made at the feed's head with the organization's first rule.
CREATE TABLE automation_cursors (
    org_id TEXT PRIMARY KEY REFERENCES organizations(id),
    txid BIGINT NOT NULL,
    seq BIGINT NOT NULL
);

-- One row per rule run: the primary key is the dedupe key that keeps several instances (and a
-- request racing the background worker) from running a rule twice for one occurrence.
-- run_key: `e:<first event seq>` for event triggers, `t:<case id>:<episode start>` for time ones.
CREATE TABLE automation_runs (
    rule_id TEXT NOT NULL REFERENCES automation_rules(id) ON DELETE CASCADE,
    run_key TEXT NOT NULL,
    org_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    -- How many rules' changes led to this run (0: a person's change); caps chains of rules.
    depth BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    -- Set when its actions are done: a request waits for runs on its case still under way.
    finished_at BIGINT,
    PRIMARY KEY (rule_id, run_key)
);
CREATE INDEX automation_runs_rule ON automation_runs(rule_id, created_at);
CREATE INDEX automation_runs_open ON automation_runs(case_id, created_at) WHERE finished_at IS NULL;

CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    user_id TEXT NOT NULL,
    case_id TEXT,
    rule_id TEXT,
    message TEXT NOT NULL,
    read_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX notifications_user ON notifications(org_id, user_id, created_at, id);

CREATE TABLE macros (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    -- NULL: shared with every agent; otherwise the one agent it belongs to.
    owner_id TEXT,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    internal BOOLEAN NOT NULL,
    actions TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX macros_org ON macros(org_id, created_at, id);
