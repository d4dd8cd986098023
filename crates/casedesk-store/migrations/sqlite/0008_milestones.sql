-- Milestones of a case (seed 003), and the templates a queue applies to its new cases.
CREATE TABLE case_milestones (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    case_id TEXT NOT NULL REFERENCES cases(id),
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    -- after_start | after_previous (target_minutes, business time in the queue's calendar) | at
    target_kind TEXT NOT NULL,
    target_minutes INTEGER,
    target_at INTEGER,
    due_at INTEGER,
    completed_at INTEGER,
    completed_by TEXT,
    overdue_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX case_milestones_case ON case_milestones(case_id, position, id);
-- The overdue sweep reads only milestones whose time has come.
CREATE INDEX case_milestones_due ON case_milestones(due_at) WHERE completed_at IS NULL AND overdue_at IS NULL;

CREATE TABLE queue_milestone_templates (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    queue_id TEXT NOT NULL REFERENCES case_queues(id),
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    target_kind TEXT NOT NULL,
    target_minutes INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX queue_milestone_templates_queue ON queue_milestone_templates(queue_id, position);
