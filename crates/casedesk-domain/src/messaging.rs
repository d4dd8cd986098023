//! Messaging channels (chat, SMS, WhatsApp, web chat): how a case ranks its channels (seed
//! 002's channel priority), the transcript lines of an escalated conversation, the connectors
//! agents' replies leave through and the body a connector receives.
//!
//! A reply to a connector is delivered like a webhook (the same signature, backoff and
//! dead-letter rules of [`crate::webhook`]); only what is sent, and to where, differs.

use jiff::Timestamp;
use serde_json::json;

use crate::case::{Case, Channel};
use crate::error::{DomainError, Errors};
use crate::people::Contact;
use crate::timeline::{Comment, Event};
use crate::webhook::{self, Delivery};

/// The channels whose replies go back through a connector rather than by email.
pub const CONNECTOR_CHANNELS: &[Channel] = &[Channel::Chat, Channel::Sms, Channel::Whatsapp, Channel::Webchat];

/// The event type of a reply delivery in the delivery machinery.
pub const REPLY_EVENT: &str = "channel.reply";
/// Timeline events: a reply reached its channel's connector, or was given up.
pub const CHANNEL_SENT: &str = "channel.sent";
pub const CHANNEL_FAILED: &str = "channel.failed";

pub fn is_connector_channel(c: Channel) -> bool {
    CONNECTOR_CHANNELS.contains(&c)
}

/// A channel a connector or a conversation can use: `chat`, `sms`, `whatsapp` or `webchat`.
pub fn parse_connector_channel(s: &str) -> Result<Channel, String> {
    let expected = || format!("unknown channel {s:?}; expected one of {}", channel_list());
    let c = Channel::parse(s).map_err(|_| expected())?;
    if is_connector_channel(c) { Ok(c) } else { Err(expected()) }
}

/// Where an agent's customer-facing reply goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyRoute {
    Email,
    /// The channel's connector.
    Connector(Channel),
}

/// The route of a reply: the channel the agent chose, else the case's own (seed 004 "replies
/// go back through the channel they came from"). Messaging channels go to their connector;
/// every other channel (email, web, phone …) is answered by email.
pub fn reply_route(case_channel: Channel, chosen: Option<Channel>) -> ReplyRoute {
    let channel = chosen.unwrap_or(case_channel);
    if is_connector_channel(channel) { ReplyRoute::Connector(channel) } else { ReplyRoute::Email }
}

/// What the customer of a case can be reached by: their contact's address and number, the
/// channels of conversations feeding the case, and the organization's active connectors.
#[derive(Debug, Clone, Default)]
pub struct Reachable {
    pub email: bool,
    pub phone: bool,
    pub conversations: Vec<Channel>,
    pub connectors: Vec<Channel>,
}

impl Reachable {
    /// The channels an agent can pick for a reply, email first: email to an address; SMS and
    /// WhatsApp to a number (or the conversation on it); chat and web chat only into a
    /// conversation on them. A messaging channel needs an active connector.
    pub fn channels(&self) -> Vec<Channel> {
        let mut out = Vec::new();
        if self.email {
            out.push(Channel::Email);
        }
        for &c in CONNECTOR_CHANNELS.iter().filter(|c| self.connectors.contains(c)) {
            let by_number = matches!(c, Channel::Sms | Channel::Whatsapp) && self.phone;
            if by_number || self.conversations.contains(&c) {
                out.push(c);
            }
        }
        out
    }

    /// Why a reply cannot go by `channel`, when it cannot.
    pub fn refusal(&self, channel: Channel) -> Option<String> {
        if self.channels().contains(&channel) {
            return None;
        }
        let name = channel.as_str();
        Some(match channel {
            Channel::Email => "the customer has no email address".into(),
            c if !is_connector_channel(c) => {
                format!("a reply goes by email or a messaging channel ({}), not {name}", channel_list())
            }
            c if !self.connectors.contains(&c) => format!("the {name} channel has no active connector"),
            Channel::Sms | Channel::Whatsapp => format!("the customer has no phone number nor a {name} conversation"),
            _ => format!("the case has no {name} conversation to answer in"),
        })
    }
}

fn channel_list() -> String {
    CONNECTOR_CHANNELS.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
}

/// How urgent a channel is for routing (seed 002): telephony 4, web chat 3, WhatsApp 2, email 1.
/// Live chat ranks with web chat and SMS with WhatsApp; channels where nobody waits on the line
/// (the web form, the API, automation) rank 0.
pub fn channel_priority(c: Channel) -> i64 {
    match c {
        Channel::Phone | Channel::Voicemail => 4,
        Channel::Webchat | Channel::Chat => 3,
        Channel::Whatsapp | Channel::Sms => 2,
        Channel::Email => 1,
        Channel::Web | Channel::Api | Channel::Automation => 0,
    }
}

/// The messaging channel the case's customer writes on, if any (email or a connector channel).
pub fn latest_messaging_channel(case: &Case) -> Option<Channel> {
    (case.channel == Channel::Email || is_connector_channel(case.channel)).then_some(case.channel)
}

/// The case's channel priority: its messaging channel's, else its channel's.
pub fn case_channel_priority(case: &Case) -> i64 {
    channel_priority(latest_messaging_channel(case).unwrap_or(case.channel))
}

/// Who wrote a line of a conversation's transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageFrom {
    /// The customer: a customer-facing comment by the case's contact.
    Customer,
    /// The channel's bot: kept as a public system comment marked "Bot".
    Bot,
    /// A person on the channel's side: a public system comment marked with the channel.
    Agent,
}

impl MessageFrom {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "customer" => Ok(MessageFrom::Customer),
            "bot" => Ok(MessageFrom::Bot),
            "agent" => Ok(MessageFrom::Agent),
            other => Err(format!("unknown sender {other:?}; expected one of customer, bot, agent")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MessageFrom::Customer => "customer",
            MessageFrom::Bot => "bot",
            MessageFrom::Agent => "agent",
        }
    }

    /// The comment body of a line: the customer's words as written; the bot's and the
    /// channel-side agent's marked, so nobody takes them for the customer or for our team.
    pub fn comment_body(self, channel: Channel, text: &str) -> String {
        match self {
            MessageFrom::Customer => text.to_string(),
            MessageFrom::Bot => format!("[Bot on {}] {text}", channel.as_str()),
            MessageFrom::Agent => format!("[Agent on {}] {text}", channel.as_str()),
        }
    }
}

/// Where an organization's replies on one channel are POSTed.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelConnector {
    pub id: String,
    pub org_id: String,
    pub channel: Channel,
    pub url: String,
    /// Signs every delivery (`Casedesk-Signature`, as webhooks). Shown once, on create.
    pub secret: String,
    pub active: bool,
    /// The admin who created it, told when casedesk switches it off.
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Since when every delivery failed; `None` after a success.
    pub failing_since: Option<Timestamp>,
    /// When and why casedesk switched it off (cleared when an admin switches it back on).
    pub disabled_at: Option<Timestamp>,
    pub disabled_reason: Option<String>,
}

/// A connector as a request gives it; `None` keeps the current value on an update.
#[derive(Debug, Clone, Default)]
pub struct ConnectorInput {
    pub url: Option<String>,
    pub active: Option<bool>,
}

impl ChannelConnector {
    /// A new, active connector to be filled by a [`ConnectorInput`].
    pub fn new(id: String, org_id: &str, channel: Channel, created_by: &str, secret: String, now: Timestamp) -> Self {
        ChannelConnector {
            id,
            org_id: org_id.to_string(),
            channel,
            url: String::new(),
            secret,
            active: true,
            created_by: created_by.to_string(),
            created_at: now,
            updated_at: now,
            failing_since: None,
            disabled_at: None,
            disabled_reason: None,
        }
    }

    /// Switched off like a webhook after a day of failed deliveries ([`webhook::Health`]).
    pub fn health(&mut self) -> webhook::Health<'_> {
        webhook::Health {
            active: &mut self.active,
            failing_since: &mut self.failing_since,
            disabled_at: &mut self.disabled_at,
            disabled_reason: &mut self.disabled_reason,
        }
    }

    /// The connector with `input` applied at `now`.
    pub fn apply(mut self, input: ConnectorInput, now: Timestamp) -> Result<Self, DomainError> {
        let mut errors = Errors::new();
        match input.url {
            Some(u) => {
                if let Some(u) = errors.take("url", webhook::parse_url(&u)) {
                    self.url = u;
                }
            }
            None if self.url.is_empty() => errors.add("url", "a connector needs a url"),
            None => {}
        }
        if let Some(a) = input.active {
            self.health().switch(a);
        }
        errors.finish()?;
        self.updated_at = now;
        Ok(self)
    }
}

/// One reply to deliver to a connector: the webhook delivery machinery's record (its
/// `webhook_id` is the connector's id), and the comment it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelDelivery {
    pub comment_id: String,
    pub delivery: Delivery,
}

impl ChannelDelivery {
    /// A first delivery of `comment` (written as event `event_seq`), due at once.
    pub fn new(id: String, connector: &ChannelConnector, event_seq: i64, comment: &Comment, payload: String) -> Self {
        ChannelDelivery {
            comment_id: comment.id.clone(),
            delivery: Delivery::fresh(
                id,
                connector.org_id.clone(),
                connector.id.clone(),
                event_seq,
                REPLY_EVENT.to_string(),
                comment.case_id.clone(),
                payload,
                comment.created_at,
            ),
        }
    }
}

/// An agent's reply to deliver: its `comment.added` event, case and comment, the channel it goes
/// by ([`reply_route`]), the conversation on that channel feeding the case (if one does) and the
/// case's contact.
#[derive(Debug, Clone, Copy)]
pub struct ChannelReply<'a> {
    pub event: &'a Event,
    pub case: &'a Case,
    pub comment: &'a Comment,
    pub channel: Channel,
    pub conversation: Option<&'a str>,
    pub contact: Option<&'a Contact>,
}

/// The JSON body a connector receives for an agent's reply: which conversation it answers
/// (`null` when none on the channel feeds the case), whom it is for (the contact's name, address
/// and number, so a reply by SMS or WhatsApp can start a thread) and the message.
pub fn reply_payload(r: &ChannelReply<'_>) -> String {
    let to = r.contact.map(|k| json!({"name": k.name, "email": k.email, "phone": k.phone}));
    json!({
        "id": webhook::event_id(r.event.seq),
        "type": REPLY_EVENT,
        "organization_id": r.case.org_id,
        "case_id": r.case.id,
        "case_number": r.case.case_number,
        "channel": r.channel.as_str(),
        "conversation_id": r.conversation,
        "contact_id": r.case.contact_id,
        "to": to,
        "message": {
            "id": r.comment.id,
            "text": r.comment.body,
            "author_id": r.comment.author_id,
            "at": r.comment.created_at,
        },
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_priorities_follow_the_seed() {
        let p = |s: &str| channel_priority(Channel::parse(s).unwrap());
        assert_eq!([p("telephony"), p("webchat"), p("whatsapp"), p("email")], [4, 3, 2, 1]);
        assert_eq!(p("chat"), p("webchat"));
        assert_eq!(p("sms"), p("whatsapp"));
        assert_eq!(p("api"), 0);
    }

    #[test]
    fn only_messaging_channels_take_connectors() {
        for ok in ["chat", "SMS", "whatsapp", "webchat"] {
            assert!(parse_connector_channel(ok).is_ok(), "{ok}");
        }
        for bad in ["email", "phone", "pigeon", ""] {
            let e = parse_connector_channel(bad).unwrap_err();
            assert!(e.contains("chat, sms, whatsapp, webchat"), "{e}");
        }
    }

    #[test]
    fn transcript_lines_other_than_the_customers_are_marked() {
        assert_eq!(MessageFrom::parse(" Customer ").unwrap().comment_body(Channel::Sms, "hi"), "hi");
        assert_eq!(MessageFrom::Bot.comment_body(Channel::Chat, "How can I help?"), "[Bot on chat] How can I help?");
        assert_eq!(MessageFrom::Agent.comment_body(Channel::Whatsapp, "one moment"), "[Agent on whatsapp] one moment");
        assert!(MessageFrom::parse("robot").is_err());
    }

    #[test]
    fn a_connector_needs_an_http_url() {
        let now = Timestamp::UNIX_EPOCH;
        let c = ChannelConnector::new("chc_1".into(), "org_1", Channel::Chat, "usr_1", "s".into(), now);
        let err = c.clone().apply(ConnectorInput::default(), now).unwrap_err();
        assert!(format!("{err:?}").contains("url"), "{err:?}");
        assert!(c.clone().apply(ConnectorInput { url: Some("ftp://x".into()), active: None }, now).is_err());
        let ok = c.apply(ConnectorInput { url: Some("https://chat.example/out".into()), active: None }, now).unwrap();
        assert_eq!(ok.url, "https://chat.example/out");
    }

    #[test]
    fn a_connector_failing_for_a_day_is_switched_off_and_back_on() {
        let start = Timestamp::UNIX_EPOCH;
        let mut c = ChannelConnector::new("chc_1".into(), "org_1", Channel::Sms, "usr_1", "s".into(), start);
        c.url = "https://sms.example/out".into();
        assert!(!c.health().record_failure(start));
        assert!(c.health().record_failure(start + webhook::DISABLE_AFTER), "off after a day of failures");
        assert!(!c.active && c.disabled_at.is_some() && c.disabled_reason.is_some());
        let on = c.apply(ConnectorInput { url: None, active: Some(true) }, start).unwrap();
        assert!(on.active && on.failing_since.is_none() && on.disabled_at.is_none() && on.disabled_reason.is_none());
    }

    #[test]
    fn replies_follow_the_case_or_the_chosen_channel() {
        assert_eq!(reply_route(Channel::Chat, None), ReplyRoute::Connector(Channel::Chat));
        assert_eq!(reply_route(Channel::Web, None), ReplyRoute::Email);
        assert_eq!(reply_route(Channel::Chat, Some(Channel::Email)), ReplyRoute::Email);
        assert_eq!(reply_route(Channel::Email, Some(Channel::Sms)), ReplyRoute::Connector(Channel::Sms));
    }

    #[test]
    fn agents_pick_among_the_channels_the_customer_is_reachable_on() {
        let r = Reachable {
            email: true,
            phone: true,
            conversations: vec![Channel::Webchat],
            connectors: vec![Channel::Sms, Channel::Chat, Channel::Webchat],
        };
        assert_eq!(r.channels(), vec![Channel::Email, Channel::Sms, Channel::Webchat]);
        assert_eq!(r.refusal(Channel::Sms), None);
        assert!(r.refusal(Channel::Whatsapp).unwrap().contains("no active connector"));
        assert!(r.refusal(Channel::Chat).unwrap().contains("no chat conversation"));
        assert!(r.refusal(Channel::Phone).unwrap().contains("not phone"));
        let none = Reachable { connectors: vec![Channel::Sms], ..Reachable::default() };
        assert!(none.channels().is_empty());
        assert!(none.refusal(Channel::Email).unwrap().contains("no email address"));
        assert!(none.refusal(Channel::Sms).unwrap().contains("no phone number"));
    }
}
