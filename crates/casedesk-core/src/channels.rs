//! Channel connectors: where an organization's replies on chat, SMS, WhatsApp and web chat
//! cases go, and the outbox that takes them there — the webhook outbox's two steps, over the
//! same [`HttpSender`](crate::webhooks::HttpSender), signature and retry rules.
//!
//! 1. **Dispatch** ([`App::dispatch_channel_replies`]): agents' public comments, read from the
//!    change feed after a per-organization cursor, on cases of a channel with an active
//!    connector become one delivery each, in the transaction that moves the cursor.
//! 2. **Delivery** ([`App::deliver_channel_replies`]): due deliveries are claimed with a lease,
//!    POSTed signed (`Casedesk-Signature`), and recorded: sent (`channel.sent` on the case's
//!    timeline), retried after a backoff, or given up after a day (`channel.failed`). A connector
//!    whose every attempt failed for a day is switched off and its creator notified, as a
//!    webhook is; an admin can send a finished delivery again.

use casedesk_domain::case::{Case, Channel};
use casedesk_domain::ids::IdKind;
use casedesk_domain::messaging::{self, ChannelConnector, ChannelDelivery, ChannelReply, ConnectorInput, Reachable};
use casedesk_domain::policy::Action;
use casedesk_domain::timeline::NewEvent;
use casedesk_domain::webhook::{self, DeliveryState};
use casedesk_store::{Page, PageRequest, StoreError};
use jiff::SignedDuration;
use serde_json::json;

use crate::{Actor, App, AppError, Result};

/// As long as a webhook delivery's lease: longer than the sender's timeout.
const LEASE: SignedDuration = SignedDuration::from_secs(120);
const SEND_BATCH: u32 = 16;
const DISPATCH_BATCH: u32 = 500;

/// What an admin sends to create a connector.
#[derive(Debug, Clone, Default)]
pub struct NewConnector {
    pub channel: String,
    pub input: ConnectorInput,
    pub secret: Option<String>,
}

impl App {
    /// Creates the organization's connector for a channel; the answer holds its secret, which is
    /// never shown again. A second connector for the same channel is a 409.
    pub async fn create_channel_connector(&self, actor: &Actor, new: NewConnector) -> Result<ChannelConnector> {
        actor.require(Action::ManageWebhooks, "manage channel connectors")?;
        let now = self.clock.now();
        let channel = messaging::parse_connector_channel(&new.channel).map_err(|m| AppError::field("channel", m));
        let secret = match new.secret {
            Some(s) => webhook::check_secret(&s).map_err(|m| AppError::field("secret", m)),
            None => Ok(webhook::new_secret()),
        };
        let (channel, secret) = (channel?, secret?);
        let base = ChannelConnector::new(
            IdKind::ChannelConnector.new_id(),
            &actor.org_id,
            channel,
            &actor.user_id,
            secret,
            now,
        );
        let c = base.apply(new.input, now)?;
        match self.store.insert_channel_connector(&c).await {
            Ok(()) => {}
            Err(StoreError::Duplicate(_)) => {
                return Err(AppError::Conflict {
                    code: "connector_exists",
                    message: format!(
                        "the {} channel already has a connector; change or delete that one",
                        channel.as_str()
                    ),
                });
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(connector.id = %c.id, org.id = %c.org_id, channel = c.channel.as_str(), "channel connector created");
        Ok(c)
    }

    pub async fn get_channel_connector(&self, actor: &Actor, id: &str) -> Result<ChannelConnector> {
        actor.require(Action::ManageWebhooks, "manage channel connectors")?;
        Ok(self.store.get_channel_connector(&actor.org_id, id).await?)
    }

    pub async fn list_channel_connectors(&self, actor: &Actor) -> Result<Vec<ChannelConnector>> {
        actor.require(Action::ManageWebhooks, "manage channel connectors")?;
        Ok(self.store.list_channel_connectors(&actor.org_id).await?)
    }

    pub async fn update_channel_connector(
        &self,
        actor: &Actor,
        id: &str,
        input: ConnectorInput,
    ) -> Result<ChannelConnector> {
        let current = self.get_channel_connector(actor, id).await?;
        let c = current.apply(input, self.clock.now())?;
        self.store.update_channel_connector(&c).await?;
        Ok(c)
    }

    pub async fn delete_channel_connector(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Action::ManageWebhooks, "manage channel connectors")?;
        Ok(self.store.delete_channel_connector(&actor.org_id, id).await?)
    }

    /// The channels an agent can send the case's next reply by, email first.
    pub async fn reply_channels(&self, actor: &Actor, case: &Case) -> Result<Vec<Channel>> {
        Ok(self.reachable(&actor.org_id, case).await?.channels())
    }

    /// What the case's customer can be reached by: the requester's address (a contact's, or an
    /// agent's who opened the case for themselves), the contact's number, the conversations
    /// feeding the case and the organization's active connectors.
    pub(crate) async fn reachable(&self, org_id: &str, case: &Case) -> Result<Reachable> {
        let contact_id =
            Some(case.requester_id.as_str()).filter(|id| IdKind::Contact.matches(id)).or(case.contact_id.as_deref());
        let contact = match contact_id {
            Some(id) => Some(self.store.get_contact(org_id, id).await?),
            None => None,
        };
        let user_email = match IdKind::User.matches(&case.requester_id) {
            true => Some(self.store.get_user(org_id, &case.requester_id).await?.email),
            false => None,
        };
        let connectors = self.store.list_channel_connectors(org_id).await?;
        Ok(Reachable {
            email: contact.as_ref().and_then(|k| k.email.as_ref()).or(user_email.as_ref()).is_some(),
            phone: contact.as_ref().is_some_and(|k| k.phone.is_some()),
            conversations: self.store.conversation_channels(org_id, &case.id).await?,
            connectors: connectors.into_iter().filter(|k| k.active).map(|k| k.channel).collect(),
        })
    }

    /// A connector's deliveries, newest first.
    pub async fn list_connector_deliveries(
        &self,
        actor: &Actor,
        id: &str,
        page: &PageRequest,
    ) -> Result<Page<ChannelDelivery>> {
        self.get_channel_connector(actor, id).await?;
        Ok(self.store.list_connector_deliveries(&actor.org_id, id, page).await?)
    }

    /// Sends a delivered or given-up reply again, as a new delivery with the same event id and
    /// body, due at once.
    pub async fn redeliver_channel_reply(&self, actor: &Actor, id: &str, delivery_id: &str) -> Result<ChannelDelivery> {
        self.get_channel_connector(actor, id).await?;
        let d = self.store.get_channel_delivery(&actor.org_id, id, delivery_id).await?;
        let again = ChannelDelivery {
            comment_id: d.comment_id,
            delivery: d.delivery.again(IdKind::ChannelDelivery.new_id(), self.clock.now())?,
        };
        self.store.add_channel_delivery(&again).await?;
        Ok(again)
    }

    /// A case's replies to its channel's connector, oldest first.
    pub async fn case_channel_deliveries(&self, actor: &Actor, case_id: &str) -> Result<Vec<ChannelDelivery>> {
        let case = self.get_case(actor, case_id).await?;
        Ok(self.store.list_channel_deliveries(&actor.org_id, &case.id).await?)
    }

    /// Turns agents' new public comments on messaging cases into deliveries; returns how many.
    pub async fn dispatch_channel_replies(&self) -> Result<usize> {
        let make = |connectors: &[ChannelConnector], reply: &ChannelReply<'_>| {
            connectors
                .iter()
                .filter(|k| k.channel == reply.channel)
                .map(|k| {
                    let payload = messaging::reply_payload(reply);
                    ChannelDelivery::new(IdKind::ChannelDelivery.new_id(), k, reply.event.seq, reply.comment, payload)
                })
                .collect::<Vec<_>>()
        };
        Ok(self.store.dispatch_channel_events(DISPATCH_BATCH, &make).await?)
    }

    /// Sends due replies until none is left; returns how many attempts were made.
    pub async fn deliver_channel_replies(&self) -> Result<usize> {
        let claim = IdKind::ChannelDelivery.new_id();
        let mut attempts = 0;
        loop {
            let now = self.clock.now();
            let claimed = self.store.claim_channel_deliveries(&claim, now, now + LEASE, SEND_BATCH).await?;
            if claimed.is_empty() {
                return Ok(attempts);
            }
            attempts += claimed.len();
            for d in claimed {
                match self.attempt_channel(d, &claim).await {
                    Ok(()) | Err(AppError::Conflict { code: "concurrent_update", .. }) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "recording a channel delivery failed; it is retried when its lease runs out")
                    }
                }
            }
        }
    }

    /// One attempt of a claimed reply, its outcome recorded with the timeline event it makes.
    async fn attempt_channel(&self, mut c: ChannelDelivery, claim: &str) -> Result<()> {
        let d = &c.delivery;
        let connector = match self.store.get_channel_connector(&d.org_id, &d.webhook_id).await {
            Ok(k) => k,
            Err(StoreError::NotFound) => return Ok(()), // deleted meanwhile, with its deliveries
            Err(e) => return Err(e.into()),
        };
        let t = self.clock.now().as_second();
        let headers = [
            ("content-type", "application/json".to_string()),
            ("user-agent", "casedesk-channels".to_string()),
            ("casedesk-signature", webhook::signature(&connector.secret, t, &d.payload)),
            ("casedesk-delivery", d.id.clone()),
            ("casedesk-event", messaging::REPLY_EVENT.to_string()),
        ];
        let outcome = self.http.post(&connector.url, &headers, &d.payload).await;
        let now = self.clock.now();
        c.delivery.record(outcome, now, rand::random::<f64>());
        let d = &c.delivery;
        let kind = match d.state {
            DeliveryState::Delivered => Some(messaging::CHANNEL_SENT),
            DeliveryState::Failed => Some(messaging::CHANNEL_FAILED),
            DeliveryState::Pending => None,
        };
        if d.state != DeliveryState::Delivered {
            tracing::info!(delivery.id = %d.id, attempts = d.attempts, error = d.last_error.as_deref().unwrap_or(""),
                "a reply to a channel connector failed");
        }
        let event = kind.map(|kind| NewEvent {
            kind,
            data: json!({
                "delivery_id": d.id,
                "comment_id": c.comment_id,
                "channel": connector.channel.as_str(),
                "attempts": d.attempts,
                "response_status": d.response_status,
                "error": d.last_error,
            }),
            created_at: now,
        });
        if let Some(off) = self.store.finish_channel_attempt(&c, claim, event.as_ref(), now).await? {
            tracing::warn!(connector.id = %off.id, org.id = %off.org_id, owner.id = %off.created_by,
                channel = off.channel.as_str(), "channel connector switched off: every delivery failed for a day");
            let what = format!("The {} connector to {}", off.channel.as_str(), off.url);
            self.tell_owner_switched_off(&off.org_id, &off.created_by, &what, off.disabled_reason.as_deref()).await;
        }
        Ok(())
    }
}
