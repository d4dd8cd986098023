-- Who has a case open in the web UI, and who is typing a reply on it: one row per viewer and
-- case, kept alive by the viewer's page while it is open and read by the other viewers' pages, so
-- that every instance sees the same people. A row past both of its times means nothing; the
-- next touch of its case removes it.
CREATE TABLE case_presence (
    org_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    viewing_until BIGINT NOT NULL,
    typing_until BIGINT NOT NULL,
    PRIMARY KEY (org_id, case_id, user_id)
);
