//! Webhooks: the admins' operations on them and their delivery log, and the two background
//! steps of the outbox that sends them.
//!
//! 1. **Dispatch** ([`App::dispatch_webhooks`]): the events each change wrote in its own
//!    transaction are read after a per-organization cursor, in the change feed's commit order,
//!    and become one delivery row per subscribed active webhook — in one transaction that also
//!    moves the cursor, so an event is turned into deliveries exactly once, even if the process
//!    dies right after the change committed.
//! 2. **Delivery** ([`App::deliver_webhooks`]): due deliveries are claimed with a lease (the
//!    oldest pending one per case and webhook, so a case's events arrive in order), POSTed through
//!    the [`HttpSender`] port with their signature, and the outcome is recorded: delivered, a
//!    retry after a backoff, or dead-lettered after a day. An endpoint failing for a day is
//!    switched off. Instances coordinate only through the database.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use casedesk_domain::case::Case;
use casedesk_domain::ids::IdKind;
use casedesk_domain::notification::Notification;
use casedesk_domain::policy::Action;
use casedesk_domain::timeline::{Comment, Event};
use casedesk_domain::webhook::{self, Delivery, Webhook, WebhookInput};
use casedesk_store::{Page, PageRequest, StoreError};
use jiff::SignedDuration;

use crate::{Actor, App, AppError, Result};

/// How long a claimed delivery is its worker's: longer than a send can take (the sender's
/// timeout), so a live worker always records its outcome first.
const LEASE: SignedDuration = SignedDuration::from_secs(120);
/// Deliveries claimed and sent at once by one worker.
const SEND_BATCH: u32 = 16;
/// Events turned into deliveries per organization and pass.
const DISPATCH_BATCH: u32 = 500;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The port through which deliveries leave: POSTs `body` to `url` with `headers` and answers
/// the response's status, or why there was none (refused, timed out …).
pub trait HttpSender: Send + Sync {
    fn post<'a>(
        &'a self,
        url: &'a str,
        headers: &'a [(&'static str, String)],
        body: &'a str,
    ) -> BoxFuture<'a, Result<u16, String>>;
}

/// The sender of an `App` that was not given one (the CLI's): it sends nothing.
pub struct NoSender;

impl HttpSender for NoSender {
    fn post<'a>(
        &'a self,
        _: &'a str,
        _: &'a [(&'static str, String)],
        _: &'a str,
    ) -> BoxFuture<'a, Result<u16, String>> {
        Box::pin(async { Err("this process sends no webhooks".to_string()) })
    }
}

/// What an admin sends to create a webhook: its fields, and a secret of their own if they want.
#[derive(Debug, Clone, Default)]
pub struct NewWebhook {
    pub input: WebhookInput,
    pub secret: Option<String>,
}

impl App {
    /// Gives the app the sender its delivery worker uses.
    pub fn with_http_sender(mut self, sender: Arc<dyn HttpSender>) -> Self {
        self.http = sender;
        self
    }

    /// Creates a webhook; the answer holds its secret, which is never shown again.
    pub async fn create_webhook(&self, actor: &Actor, new: NewWebhook) -> Result<Webhook> {
        actor.require(Action::ManageWebhooks, "manage webhooks")?;
        let now = self.clock.now();
        let secret = match new.secret {
            Some(s) => webhook::check_secret(&s).map_err(|m| AppError::field("secret", m))?,
            None => webhook::new_secret(),
        };
        let base = Webhook::new(IdKind::Webhook.new_id(), &actor.org_id, &actor.user_id, secret, now);
        let w = new.input.apply(base, now)?;
        self.store.insert_webhook(&w).await?;
        tracing::info!(webhook.id = %w.id, org.id = %w.org_id, "webhook created");
        Ok(w)
    }

    pub async fn get_webhook(&self, actor: &Actor, id: &str) -> Result<Webhook> {
        actor.require(Action::ManageWebhooks, "manage webhooks")?;
        Ok(self.store.get_webhook(&actor.org_id, id).await?)
    }

    pub async fn list_webhooks(&self, actor: &Actor, page: &PageRequest) -> Result<Page<Webhook>> {
        actor.require(Action::ManageWebhooks, "manage webhooks")?;
        Ok(self.store.list_webhooks(&actor.org_id, page).await?)
    }

    /// Changes a webhook; switching it back on forgets its failures.
    pub async fn update_webhook(&self, actor: &Actor, id: &str, input: WebhookInput) -> Result<Webhook> {
        let current = self.get_webhook(actor, id).await?;
        let w = input.apply(current, self.clock.now())?;
        self.store.update_webhook(&w).await?;
        Ok(w)
    }

    pub async fn delete_webhook(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Action::ManageWebhooks, "manage webhooks")?;
        Ok(self.store.delete_webhook(&actor.org_id, id).await?)
    }

    /// A webhook's delivery log, newest first.
    pub async fn list_webhook_deliveries(&self, actor: &Actor, id: &str, page: &PageRequest) -> Result<Page<Delivery>> {
        self.get_webhook(actor, id).await?;
        Ok(self.store.list_webhook_deliveries(&actor.org_id, id, page).await?)
    }

    /// Sends a delivered or dead-lettered event again, as a new delivery with the same event id
    /// and body, due at once.
    pub async fn redeliver_webhook(&self, actor: &Actor, id: &str, delivery_id: &str) -> Result<Delivery> {
        self.get_webhook(actor, id).await?;
        let d = self.store.get_webhook_delivery(&actor.org_id, id, delivery_id).await?;
        let again = d.again(IdKind::WebhookDelivery.new_id(), self.clock.now())?;
        self.store.insert_webhook_delivery(&again).await?;
        Ok(again)
    }

    /// Turns committed events into deliveries (step 1 of the outbox); returns how many.
    pub async fn dispatch_webhooks(&self) -> Result<usize> {
        let now = self.clock.now();
        let make = move |hooks: &[Webhook], event: &Event, case: Option<&Case>, comment: Option<&Comment>| {
            let mut out = Vec::new();
            let mut body = None;
            for h in hooks.iter().filter(|h| h.subscribes(&event.kind)) {
                let payload = body.get_or_insert_with(|| webhook::payload(event, case, comment)).clone();
                out.push(Delivery::new(IdKind::WebhookDelivery.new_id(), h, event, payload, now));
            }
            out
        };
        Ok(self.store.dispatch_webhook_events(DISPATCH_BATCH, &make).await?)
    }

    /// Sends due deliveries until none is left (step 2 of the outbox); returns how many attempts
    /// were made.
    pub async fn deliver_webhooks(&self) -> Result<usize> {
        let claim = IdKind::WebhookDelivery.new_id();
        let mut attempts = 0;
        loop {
            let now = self.clock.now();
            let claimed = self.store.claim_webhook_deliveries(&claim, now, now + LEASE, SEND_BATCH).await?;
            if claimed.is_empty() {
                return Ok(attempts);
            }
            attempts += claimed.len();
            let mut sends = tokio::task::JoinSet::new();
            for d in claimed {
                let (app, claim) = (self.clone(), claim.clone());
                sends.spawn(async move { app.attempt(d, &claim).await });
            }
            while let Some(done) = sends.join_next().await {
                match done {
                    Ok(Ok(())) | Ok(Err(AppError::Conflict { code: "concurrent_update", .. })) => {}
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "recording a webhook delivery failed; it is retried when its lease runs out")
                    }
                    Err(e) => tracing::warn!(error = %e, "a webhook delivery task failed"),
                }
            }
        }
    }

    /// One attempt of a claimed delivery, and its outcome recorded.
    async fn attempt(&self, mut d: Delivery, claim: &str) -> Result<()> {
        let hook = match self.store.get_webhook(&d.org_id, &d.webhook_id).await {
            Ok(h) => h,
            Err(StoreError::NotFound) => return Ok(()), // deleted meanwhile, with its deliveries
            Err(e) => return Err(e.into()),
        };
        let t = self.clock.now().as_second();
        let headers = [
            ("content-type", "application/json".to_string()),
            ("user-agent", "casedesk-webhooks".to_string()),
            ("casedesk-signature", webhook::signature(&hook.secret, t, &d.payload)),
            ("casedesk-delivery", d.id.clone()),
            ("casedesk-event", d.event_type.clone()),
        ];
        let outcome = self.http.post(&hook.url, &headers, &d.payload).await;
        let now = self.clock.now();
        d.record(outcome, now, rand::random::<f64>());
        let counter = match d.state {
            webhook::DeliveryState::Delivered => &self.counters.webhook_delivered,
            webhook::DeliveryState::Pending => &self.counters.webhook_retried,
            webhook::DeliveryState::Failed => &self.counters.webhook_dead_lettered,
        };
        crate::metrics::Counters::add(counter, 1);
        match d.state {
            webhook::DeliveryState::Failed => tracing::info!(
                webhook.id = %d.webhook_id, delivery.id = %d.id, attempts = d.attempts,
                error = d.last_error.as_deref().unwrap_or(""), "webhook delivery dead-lettered after a day of failures"
            ),
            webhook::DeliveryState::Pending => tracing::debug!(
                webhook.id = %d.webhook_id, delivery.id = %d.id, attempts = d.attempts,
                error = d.last_error.as_deref().unwrap_or(""), "webhook delivery failed; retrying later"
            ),
            webhook::DeliveryState::Delivered => {}
        }
        if let Some(off) = self.store.finish_webhook_attempt(&d, claim, now).await? {
            tracing::warn!(webhook.id = %off.id, org.id = %off.org_id, owner.id = %off.created_by,
                "webhook switched off: every delivery failed for a day");
            let what = format!("The webhook to {}", off.url);
            self.tell_owner_switched_off(&off.org_id, &off.created_by, &what, off.disabled_reason.as_deref()).await;
        }
        Ok(())
    }

    /// Tells the admin who created an endpoint (a webhook, a channel connector) that casedesk
    /// switched it off, by an in-app notification; its own state says so in the API as well.
    pub(crate) async fn tell_owner_switched_off(&self, org_id: &str, owner: &str, what: &str, why: Option<&str>) {
        let note = Notification {
            id: IdKind::Notification.new_id(),
            org_id: org_id.to_string(),
            user_id: owner.to_string(),
            case_id: None,
            rule_id: None,
            message: format!("{what} was switched off: {}", why.unwrap_or("its deliveries kept failing")),
            read_at: None,
            created_at: self.clock.now(),
        };
        if let Err(e) = self.store.insert_notifications(std::slice::from_ref(&note)).await {
            tracing::warn!(error = %e, org.id = %org_id, "could not notify the owner of a switched-off endpoint");
        }
    }

    /// Dispatches and sends webhooks, and replies to channel connectors, every `poll` until the
    /// task is dropped.
    pub(crate) async fn webhook_worker(&self, poll: Duration) {
        let mut tick = tokio::time::interval(poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.dispatch_webhooks().await {
                tracing::warn!(error = %e, "webhook dispatch failed; retrying on the next tick");
            }
            if let Err(e) = self.deliver_webhooks().await {
                tracing::warn!(error = %e, "webhook delivery failed; retrying on the next tick");
            }
            // Replies to channel connectors go through the same kind of outbox, at the same pace.
            if let Err(e) = self.dispatch_channel_replies().await {
                tracing::warn!(error = %e, "channel reply dispatch failed; retrying on the next tick");
            }
            if let Err(e) = self.deliver_channel_replies().await {
                tracing::warn!(error = %e, "channel reply delivery failed; retrying on the next tick");
            }
        }
    }
}
