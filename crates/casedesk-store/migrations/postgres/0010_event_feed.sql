-- The organization's change feed reads events in the order of their transactions: each event
-- records its transaction's id, and the feed serves only events of transactions older than every
-- transaction still running, so an event that commits late can never land behind a reader's cursor.
ALTER TABLE case_events ADD COLUMN txid BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX case_events_feed ON case_events(org_id, txid, seq);
