-- The organization's change feed. SQLite has one writer, so `seq` order is commit order and
-- `txid` stays 0; the column exists so both backends read the feed with the same query.
ALTER TABLE case_events ADD COLUMN txid INTEGER NOT NULL DEFAULT 0;
CREATE INDEX case_events_feed ON case_events(org_id, txid, seq);
