-- casedesk schema, SQLite. Times are INTEGER microseconds since the Unix epoch (UTC).
CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    next_case_number INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    availability TEXT NOT NULL DEFAULT 'available',
    password_hash TEXT,
    is_active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX users_org ON users(org_id, created_at, id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    expires_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX api_tokens_org ON api_tokens(org_id, user_id, created_at);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    domain TEXT,
    tier TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX accounts_org ON accounts(org_id, created_at, id);

CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    account_id TEXT REFERENCES accounts(id),
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    external_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX contacts_org ON contacts(org_id, created_at, id);
CREATE INDEX contacts_email ON contacts(org_id, email);
CREATE INDEX contacts_account ON contacts(account_id);

CREATE TABLE case_queues (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    assignment_method TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX case_queues_org ON case_queues(org_id, created_at, id);

CREATE TABLE cases (
    seq INTEGER PRIMARY KEY, -- creation time in microseconds × 1024 + n (see queries::seq_base)
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    case_number INTEGER NOT NULL,
    subject TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL,
    priority INTEGER NOT NULL,
    case_type TEXT NOT NULL,
    channel TEXT NOT NULL,
    queue_id TEXT REFERENCES case_queues(id),
    owner_id TEXT REFERENCES users(id),
    requester_id TEXT NOT NULL,
    contact_id TEXT REFERENCES contacts(id),
    account_id TEXT REFERENCES accounts(id),
    opportunity_id TEXT,
    tags TEXT NOT NULL,
    custom_fields TEXT NOT NULL,
    resolution_notes TEXT,
    due_at INTEGER,
    is_waiting INTEGER NOT NULL,
    resolved_at INTEGER,
    closed_at INTEGER,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    deleted_at INTEGER
);
CREATE UNIQUE INDEX cases_number ON cases(org_id, case_number);
CREATE INDEX cases_created ON cases(org_id, created_at, seq) WHERE deleted_at IS NULL;
CREATE INDEX cases_updated ON cases(org_id, updated_at, seq) WHERE deleted_at IS NULL;
CREATE INDEX cases_status ON cases(org_id, status, created_at, seq) WHERE deleted_at IS NULL;
CREATE INDEX cases_priority ON cases(org_id, priority, created_at, seq) WHERE deleted_at IS NULL;
CREATE INDEX cases_owner ON cases(org_id, owner_id, created_at, seq) WHERE deleted_at IS NULL;
CREATE INDEX cases_queue ON cases(org_id, queue_id, created_at, seq) WHERE deleted_at IS NULL;
CREATE INDEX cases_requester ON cases(org_id, requester_id, created_at, seq) WHERE deleted_at IS NULL;
CREATE INDEX cases_contact ON cases(contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX cases_account ON cases(account_id) WHERE account_id IS NOT NULL;
CREATE INDEX cases_closed ON cases(org_id, closed_at) WHERE closed_at IS NOT NULL;

CREATE TABLE case_tags (
    org_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    case_seq INTEGER NOT NULL REFERENCES cases(seq),
    PRIMARY KEY (org_id, tag, case_seq)
) WITHOUT ROWID;
CREATE INDEX case_tags_case ON case_tags(case_seq);

-- One document per case: subject, description and every comment body, already folded to plain
-- words by the application (casedesk_domain::search). No copy of the text is kept (contentless);
-- rowid = cases.seq.
CREATE VIRTUAL TABLE cases_fts USING fts5(
    subject, description, comments,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TABLE comments (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(id),
    author_id TEXT,
    body TEXT NOT NULL,
    internal INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX comments_case ON comments(case_id, created_at, id);

CREATE TABLE case_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor_id TEXT,
    data TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX case_events_case ON case_events(case_id, seq);

CREATE TABLE idempotency_keys (
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id, key)
) WITHOUT ROWID;
