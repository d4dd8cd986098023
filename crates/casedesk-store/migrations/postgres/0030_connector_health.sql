-- Channel connectors are switched off after a day of failed deliveries, as webhooks are; and each
-- connector has a delivery log of its own.
ALTER TABLE channel_connectors ADD COLUMN failing_since BIGINT;
ALTER TABLE channel_connectors ADD COLUMN disabled_at BIGINT;
ALTER TABLE channel_connectors ADD COLUMN disabled_reason TEXT;
CREATE INDEX channel_deliveries_log ON channel_deliveries(org_id, connector_id, created_at, id);
