-- The search document gains the names of the people a case is about (its contact, and its
-- requester when that is a contact), weighted between the subject and the text. FTS5 cannot add
-- a column, so the index is made again; it is contentless and its words are folded by the
-- application, so the store fills it on the next start from `search_rebuild` (see
-- `Store::rebuild_search_index`), one batch of cases per transaction.
DROP TABLE cases_fts;
CREATE VIRTUAL TABLE cases_fts USING fts5(
    subject, description, comments, people,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);

-- While a row is here, the cases after `after_seq` still need their search entry rebuilt.
CREATE TABLE search_rebuild (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    after_seq INTEGER NOT NULL
);
INSERT INTO search_rebuild (id, after_seq) SELECT 1, -9223372036854775808 WHERE EXISTS (SELECT 1 FROM cases);
