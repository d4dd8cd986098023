//! Conversations from messaging channels (seed 004 "from conversations"): a bot that cannot
//! help escalates its conversation, which becomes a case for the customer's contact with the
//! transcript as its first comments; later posts of the same conversation join that case (or a
//! follow-up of it once it is closed, linked to it, as a mail reply to a closed case does).
//!
//! Every step is keyed, as mail intake is: the case by the conversation, each message by its
//! sender, time and text. A retried post (or a channel that resends the whole transcript) adds
//! nothing twice, and two posts racing for a new conversation make one case.

use casedesk_domain::case::{Case, Channel, NewCase};
use casedesk_domain::messaging::{self, MessageFrom};
use casedesk_domain::people::{Contact, phone_key};
use casedesk_domain::policy::{Action, Role};
use casedesk_domain::timeline::AuthorType;
use casedesk_domain::{Errors, text};
use casedesk_store::StoreError;
use jiff::Timestamp;

use crate::cases::CommentInput;
use crate::idempotency::{Created, IdemKey};
use crate::{Actor, App, AppError, Result};

/// Longest external conversation id.
const MAX_CONVERSATION_ID: usize = 200;
/// Most messages in one post.
const MAX_MESSAGES: usize = 500;

/// One line of a transcript, as posted.
#[derive(Debug, Clone, Default)]
pub struct MessageInput {
    pub from: String,
    pub text: String,
    pub at: Option<String>,
}

/// Who the customer is: a contact's id, or an address and number to find or make one by.
#[derive(Debug, Clone, Default)]
pub struct ConversationContact {
    pub id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// An escalated conversation, or more of one.
#[derive(Debug, Clone, Default)]
pub struct Conversation {
    pub channel: String,
    pub conversation_id: String,
    pub messages: Vec<MessageInput>,
    pub contact: ConversationContact,
    /// Why the bot escalated; the case's subject.
    pub reason: Option<String>,
    pub queue_id: Option<String>,
}

/// What a post did: the case it went to, and whether it opened that case.
#[derive(Debug, Clone)]
pub struct ConversationCase {
    pub case: Case,
    pub opened: bool,
}

struct Line {
    from: MessageFrom,
    text: String,
    at: Option<Timestamp>,
}

impl App {
    /// Files a conversation: a new case for a conversation not seen before (or whose case is
    /// closed: then a follow-up linked to it), else the messages join its case.
    pub async fn conversation_case(
        &self,
        actor: &Actor,
        c: Conversation,
        idem: Option<IdemKey>,
    ) -> Result<Created<ConversationCase>> {
        actor.require(Action::WriteCases, "open cases from conversations")?;
        let mut errors = Errors::new();
        let channel = errors.take("channel", messaging::parse_connector_channel(&c.channel));
        let conversation_id = c.conversation_id.trim().to_string();
        if conversation_id.is_empty() {
            errors.add("conversation_id", "required");
        } else if conversation_id.chars().count() > MAX_CONVERSATION_ID || conversation_id.chars().any(char::is_control)
        {
            errors.add(
                "conversation_id",
                format!("must be at most {MAX_CONVERSATION_ID} characters, without control characters"),
            );
        }
        if c.messages.is_empty() {
            errors.add("messages", "at least one message");
        } else if c.messages.len() > MAX_MESSAGES {
            errors.add("messages", format!("at most {MAX_MESSAGES} messages in one post"));
        }
        let mut lines = Vec::new();
        for (i, m) in c.messages.iter().enumerate() {
            let from = errors.take(&format!("messages[{i}].from"), MessageFrom::parse(&m.from));
            let body = errors.take(&format!("messages[{i}].text"), text::required_line(&m.text, text::MAX_BODY - 100));
            let at = match m.at.as_deref() {
                Some(a) => errors
                    .take(
                        &format!("messages[{i}].at"),
                        a.trim().parse::<Timestamp>().map_err(|_| "must be an RFC 3339 time".to_string()),
                    )
                    .map(Some),
                None => Some(None),
            };
            if let (Some(from), Some(text), Some(at)) = (from, body, at) {
                lines.push(Line { from, text, at });
            }
        }
        let reason = match c.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => errors.take("reason", text::required_line(r, 200)),
            None => None,
        };
        let contact_in = &c.contact;
        let email = match contact_in.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            Some(e) => errors.take("contact.email", text::email(e)),
            None => None,
        };
        let phone = match contact_in.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) if phone_key(p).is_some() && p.chars().count() <= 64 => Some(p.to_string()),
            Some(_) => {
                errors.add("contact.phone", "must be a phone number with at least four digits");
                None
            }
            None => None,
        };
        let name = match contact_in.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => errors.take("contact.name", text::bounded(n, 200)),
            None => None,
        };
        if contact_in.id.is_none() && contact_in.email.is_none() && contact_in.phone.is_none() {
            errors.add("contact", "give the contact's id, or an email or phone to find or make the contact by");
        }
        errors.finish()?;
        let Some(channel) = channel else { return Err(AppError::field("channel", "required")) };

        if let Some(prev) = self.idem_previous(actor, idem.as_ref()).await? {
            let case = self.store.get_case(&actor.org_id, &prev.resource_id).await?;
            return Ok(Created { value: ConversationCase { case, opened: prev.status_code == 201 }, replayed: true });
        }
        if let Some(q) = &c.queue_id {
            crate::error::named(self.store.get_queue(&actor.org_id, q).await, "queue_id", "queue", q)?;
        }
        let contact = match &contact_in.id {
            Some(id) => {
                crate::error::named(self.store.get_contact(&actor.org_id, id).await, "contact.id", "contact", id)?
            }
            None => self.find_or_create_contact(actor, name, email, phone).await?,
        };

        let linked_id = self.store.get_conversation_case(&actor.org_id, channel, &conversation_id).await?;
        let linked = match &linked_id {
            Some(id) => match self.store.get_case(&actor.org_id, id).await {
                Ok(case) => Some(case),
                // Deleted since: the conversation starts over.
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        let (case, opened) = match linked {
            Some(case) if !case.is_closed() => (case, false),
            earlier => {
                let who = if contact.name.is_empty() { "a customer".to_string() } else { contact.name.clone() };
                let subject =
                    reason.clone().unwrap_or_else(|| format!("Conversation on {} with {who}", channel.as_str()));
                let description = format!(
                    "Escalated from {} conversation {conversation_id}.{}",
                    channel.as_str(),
                    reason.as_deref().map(|r| format!("\nReason: {r}")).unwrap_or_default()
                );
                let input = NewCase {
                    subject,
                    description,
                    channel: Some(channel),
                    queue_id: c.queue_id.clone(),
                    requester_id: Some(contact.id.clone()),
                    contact_id: Some(contact.id.clone()),
                    ..Default::default()
                };
                // Keyed by the conversation and the case it had (closed, or deleted): two racing
                // posts make one case.
                let after = linked_id.as_deref().unwrap_or("");
                let key =
                    IdemKey::derived("conversation-case", &[channel.as_str(), &conversation_id, after], "conversation");
                let case = self.create_case(actor, input, Some(key)).await?.value;
                if let Some(earlier) = earlier {
                    let linked = self.list_links(actor, &case.id).await?.iter().any(|(_, l)| l.id == earlier.id);
                    if !linked {
                        self.add_link(actor, &case.id, "related", &earlier.id).await?;
                    }
                }
                self.store
                    .link_conversation(&actor.org_id, channel, &conversation_id, &case.id, self.clock.now())
                    .await?;
                (case, true)
            }
        };

        self.add_transcript(actor, &case, channel, &contact, &lines).await?;
        if let Some(rec) = self.idem_record(actor, idem.as_ref(), &case.id, if opened { 201 } else { 200 }) {
            match self.store.insert_idempotency(&rec).await {
                Ok(()) | Err(StoreError::Duplicate(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        // The rules the new case and messages triggered (the queue's notifications) run now,
        // as for a case made through the API.
        self.settle_automation(&actor.org_id, &case.id).await;
        let case = self.store.get_case(&actor.org_id, &case.id).await?;
        Ok(Created { value: ConversationCase { case, opened }, replayed: false })
    }

    /// The transcript's lines as comments, each keyed by the case, its sender, time and text:
    /// the customer's as the contact's customer-facing comments, the bot's and the channel-side
    /// agent's as marked public system comments.
    async fn add_transcript(
        &self,
        actor: &Actor,
        case: &Case,
        channel: Channel,
        contact: &Contact,
        lines: &[Line],
    ) -> Result<()> {
        let as_contact = Actor { org_id: actor.org_id.clone(), user_id: contact.id.clone(), role: Role::Admin };
        let as_system =
            Actor { org_id: actor.org_id.clone(), user_id: crate::jobs::SYSTEM_ACTOR.into(), role: Role::Admin };
        for line in lines {
            let at = line.at.map(|t| t.to_string()).unwrap_or_default();
            let key = IdemKey::derived(
                "conversation-message",
                &[&case.id, line.from.as_str(), &at, &line.text],
                "conversation",
            );
            let (who, author_type) = match line.from {
                MessageFrom::Customer => (&as_contact, AuthorType::Customer),
                MessageFrom::Bot | MessageFrom::Agent => (&as_system, AuthorType::System),
            };
            let body = line.from.comment_body(channel, &line.text);
            let input = CommentInput { body: &body, internal: false, author_type, file_ids: &[], reply_channel: None };
            self.add_comment(who, &case.id, input, Some(key)).await?;
        }
        Ok(())
    }

    /// An agent has read the case: its unread customer messages are cleared.
    pub async fn mark_case_read(&self, actor: &Actor, case_id: &str) -> Result<Case> {
        actor.require(Action::WriteCases, "mark cases read")?;
        for _ in 0..crate::cases::UPDATE_ATTEMPTS {
            let case = self.store.get_case_for_update(&actor.org_id, case_id).await?;
            if case.unread_message_count == 0 {
                return Ok(case);
            }
            let mut next = case.clone();
            next.unread_message_count = 0;
            next.version += 1;
            match self.store.update_case(&next, case.version, &[], &actor.user_id).await {
                Ok(()) => return Ok(next),
                Err(StoreError::Stale) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Stale.into())
    }
}
