//! [`Store`] methods for webhooks and their outbox of deliveries.

use casedesk_domain::case::Case;
use casedesk_domain::timeline::{Comment, Event};
use casedesk_domain::webhook::{Delivery, Webhook};
use jiff::Timestamp;

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{Page, PageRequest, Result, Store};

/// Chooses the deliveries of one event: given the organization's active webhooks, the event, its
/// case as it stands now (`None` once purged) and, for `comment.added`, the comment.
pub type MakeDeliveries<'a> =
    dyn Fn(&[Webhook], &Event, Option<&Case>, Option<&Comment>) -> Vec<Delivery> + Send + Sync + 'a;

impl Store {
    /// Stores a new webhook; the organization's first one starts the dispatcher at the head of
    /// its change feed.
    pub async fn insert_webhook(&self, w: &Webhook) -> Result<()> {
        dispatch!(self, write, insert_webhook(w))
    }

    pub async fn get_webhook(&self, org_id: &str, id: &str) -> Result<Webhook> {
        dispatch!(self, read, get_webhook(org_id, id))
    }

    pub async fn list_webhooks(&self, org_id: &str, page: &PageRequest) -> Result<Page<Webhook>> {
        dispatch!(self, read, list_webhooks(org_id, page))
    }

    pub async fn update_webhook(&self, w: &Webhook) -> Result<()> {
        dispatch!(self, write, update_webhook(w))
    }

    /// Deletes a webhook and its delivery log.
    pub async fn delete_webhook(&self, org_id: &str, id: &str) -> Result<()> {
        dispatch!(self, write, delete_webhook(org_id, id))
    }

    /// Turns the committed events after each organization's cursor (up to `limit` per
    /// organization) into deliveries, moving the cursor in the same transaction. Returns how
    /// many deliveries were made.
    pub async fn dispatch_webhook_events(&self, limit: u32, make: &MakeDeliveries<'_>) -> Result<usize> {
        dispatch!(self, write, dispatch_webhook_events(limit, make))
    }

    /// Stores a redelivery.
    pub async fn insert_webhook_delivery(&self, d: &Delivery) -> Result<()> {
        dispatch!(self, write, insert_webhook_delivery(d))
    }

    /// Claims up to `limit` due deliveries for `claim` until `lease_until` (the oldest pending
    /// one per case and webhook only).
    pub async fn claim_webhook_deliveries(
        &self,
        claim: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        dispatch!(self, write, claim_webhook_deliveries(claim, now, lease_until, limit))
    }

    /// Saves an attempt's outcome while `claim` holds the delivery; returns the webhook when
    /// this failure switched it off.
    pub async fn finish_webhook_attempt(&self, d: &Delivery, claim: &str, now: Timestamp) -> Result<Option<Webhook>> {
        dispatch!(self, write, finish_webhook_attempt(d, claim, now))
    }

    pub async fn get_webhook_delivery(&self, org_id: &str, webhook_id: &str, id: &str) -> Result<Delivery> {
        dispatch!(self, read, get_webhook_delivery(org_id, webhook_id, id))
    }

    /// A webhook's delivery log, newest first.
    pub async fn list_webhook_deliveries(
        &self,
        org_id: &str,
        webhook_id: &str,
        page: &PageRequest,
    ) -> Result<Page<Delivery>> {
        dispatch!(self, read, list_webhook_deliveries(org_id, webhook_id, page))
    }
}
