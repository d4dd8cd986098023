-- Activities logged on a case (calls, meetings, emails, other) and tasks with an assignee and a
-- due time (seed 000's "linked activities").
CREATE TABLE case_activities (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    case_id TEXT NOT NULL REFERENCES cases(id),
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    note TEXT NOT NULL,
    with_whom TEXT,
    outcome TEXT,
    occurred_at INTEGER,
    duration_minutes INTEGER,
    assignee_id TEXT REFERENCES users(id),
    due_at INTEGER,
    completed_at INTEGER,
    completed_by TEXT,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX case_activities_case ON case_activities(case_id, created_at, id);
-- An agent's open tasks, soonest due first.
CREATE INDEX case_activities_open_tasks ON case_activities(org_id, assignee_id, due_at, id)
    WHERE kind = 'task' AND completed_at IS NULL;
