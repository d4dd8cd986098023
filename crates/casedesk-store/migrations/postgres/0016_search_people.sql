-- The search vector gains the names of the people a case is about (its contact, and its
-- requester when that is a contact) with weight B, between the subject (A) and the text (D).
-- Names are folded by the application, so the store recomputes the vectors on the next start
-- from `search_rebuild` (see `Store::rebuild_search_index`), one batch per transaction.

-- While a row is here, the cases after `after_seq` still need their search vector rebuilt.
CREATE TABLE search_rebuild (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    after_seq BIGINT NOT NULL
);
INSERT INTO search_rebuild (id, after_seq) SELECT 1, -9223372036854775808 WHERE EXISTS (SELECT 1 FROM cases);
