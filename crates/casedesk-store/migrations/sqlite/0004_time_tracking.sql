-- Time tracking: time types, time entries, per-agent timers and per-case estimates.

-- How many minutes make a working day, for durations given in days ("1d").
ALTER TABLE organizations ADD COLUMN working_day_minutes INTEGER NOT NULL DEFAULT 480;
-- Whether agents may log time on the queue's cases (seed 003: features follow channel settings).
ALTER TABLE case_queues ADD COLUMN time_tracking INTEGER NOT NULL DEFAULT 1;

CREATE TABLE time_types (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    billable INTEGER NOT NULL,
    active INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX time_types_org ON time_types(org_id, created_at, id);
CREATE UNIQUE INDEX time_types_name ON time_types(org_id, lower(name));

CREATE TABLE time_entries (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    case_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    work_date TEXT NOT NULL,            -- YYYY-MM-DD, sorts as a date
    duration_secs INTEGER NOT NULL,
    time_type_id TEXT REFERENCES time_types(id),
    billable INTEGER NOT NULL,
    note TEXT NOT NULL,
    source TEXT NOT NULL,               -- manual or timer
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- Timesheets (newest work first, keyset on (work_date, id)), a case's entries, totals.
CREATE INDEX time_entries_org_date ON time_entries(org_id, work_date, id);
CREATE INDEX time_entries_user_date ON time_entries(user_id, work_date, id);
CREATE INDEX time_entries_case ON time_entries(case_id, work_date, id);
CREATE INDEX time_entries_type ON time_entries(time_type_id) WHERE time_type_id IS NOT NULL;

-- A timer per agent and case; running while running_since is set. The unique partial index is
-- the rule "one running timer per agent", held by the database whatever instance writes.
CREATE TABLE time_timers (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    case_id TEXT NOT NULL,
    running_since INTEGER,
    accumulated_us INTEGER NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX time_timers_user_case ON time_timers(user_id, case_id);
CREATE UNIQUE INDEX time_timers_one_running ON time_timers(user_id) WHERE running_since IS NOT NULL;

CREATE TABLE case_time_estimates (
    case_id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    minutes INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
