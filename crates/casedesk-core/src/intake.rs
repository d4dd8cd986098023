//! Cases from other channels than the API and email: the voicemail pipeline (seed 000) posts a
//! transcribed message, which becomes a case for the caller's contact, found by phone number.

use casedesk_domain::case::{Case, Channel, NewCase};
use casedesk_domain::people::{ContactInput, phone_key};
use casedesk_domain::policy::Action;
use casedesk_domain::{Errors, text};
use casedesk_store::{ContactFilter, PageRequest};

use crate::idempotency::{Created, IdemKey};
use crate::{Actor, App, Result};

/// A transcribed voicemail.
#[derive(Debug, Clone, Default)]
pub struct Voicemail {
    pub caller_number: String,
    pub caller_name: Option<String>,
    pub transcript: Option<String>,
    pub recording_url: Option<String>,
    pub duration_seconds: Option<i64>,
    pub queue_id: Option<String>,
}

/// Longest voicemail taken (a day: anything longer is a mistake upstream).
const MAX_DURATION_SECONDS: i64 = 86_400;

fn duration_text(secs: i64) -> String {
    if secs >= 60 { format!("{}:{:02}", secs / 60, secs % 60) } else { format!("{secs} s") }
}

impl App {
    /// Opens a case from a voicemail: the caller's contact is the one with that number (however
    /// it is written), or a new one named after the caller; the transcript is the description,
    /// with the recording's address and length.
    pub async fn voicemail_case(&self, actor: &Actor, v: Voicemail, idem: Option<IdemKey>) -> Result<Created<Case>> {
        actor.require(Action::WriteCases, "open cases from voicemail")?;
        let mut errors = Errors::new();
        let number = v.caller_number.trim().to_string();
        if number.is_empty() {
            errors.add("caller_number", "required");
        } else if phone_key(&number).is_none() || number.chars().count() > 64 {
            errors.add("caller_number", "must be a phone number with at least four digits");
        }
        let name = match v.caller_name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => errors.take("caller_name", text::bounded(n, 200)),
            None => None,
        };
        let transcript = match v.transcript.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => errors.take("transcript", text::bounded(t, text::MAX_BODY - 1000)),
            None => None,
        };
        if let Some(u) = &v.recording_url {
            match url::Url::parse(u) {
                Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {}
                _ => errors.add("recording_url", "must be an http:// or https:// URL"),
            }
        }
        if let Some(d) = v.duration_seconds
            && !(0..=MAX_DURATION_SECONDS).contains(&d)
        {
            errors.add("duration_seconds", format!("must be from 0 to {MAX_DURATION_SECONDS}"));
        }
        errors.finish()?;
        // Checked before the contact is made: a refused voicemail leaves nothing behind.
        if let Some(q) = &v.queue_id {
            crate::error::named(self.store.get_queue(&actor.org_id, q).await, "queue_id", "queue", q)?;
        }

        let filter = ContactFilter { phone: Some(number.clone()), ..Default::default() };
        let page = PageRequest { limit: 1, ..PageRequest::default() };
        let contact = match self.store.list_contacts(&actor.org_id, &filter, &page).await?.items.into_iter().next() {
            Some(c) => c,
            None => {
                let input = ContactInput {
                    name: Some(name.clone().unwrap_or_else(|| number.clone())),
                    phone: Some(Some(number.clone())),
                    ..Default::default()
                };
                // Keyed by the number: two voicemails from a new caller at once make one contact.
                let key_text = format!("voicemail-contact:{}", phone_key(&number).unwrap_or_default());
                let key = IdemKey::new(&key_text, "voicemail".into())?;
                self.create_contact(actor, input, Some(key)).await?.value
            }
        };
        let who = if contact.name == number { number.clone() } else { format!("{} ({number})", contact.name) };
        let mut description = transcript.clone().unwrap_or_else(|| "(no transcript)".to_string());
        let mut details = Vec::new();
        if let Some(u) = &v.recording_url {
            details.push(format!("Recording: {u}"));
        }
        if let Some(d) = v.duration_seconds {
            details.push(format!("Length: {}", duration_text(d)));
        }
        details.push(format!("Caller: {number}"));
        description.push_str("\n\n");
        description.push_str(&details.join("\n"));
        let input = NewCase {
            subject: format!("Voicemail from {who}"),
            description,
            channel: Some(Channel::Voicemail),
            queue_id: v.queue_id,
            requester_id: Some(contact.id.clone()),
            contact_id: Some(contact.id.clone()),
            ..Default::default()
        };
        self.create_case(actor, input, idem).await
    }
}
