-- Purging a case clears the links of the cases merged into it; without an index that update
-- read every case of the organization while holding the write lock.
CREATE INDEX cases_merged_into ON cases(merged_into_id) WHERE merged_into_id IS NOT NULL;
