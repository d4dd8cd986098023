//! The [`Mailer`] that outgoing mail leaves through: lettre's SMTP client with rustls (the Mozilla
//! roots, no OpenSSL), one connection per message to the organization's server, and the MIME
//! message built here: text body, case files as attachments, our Message-ID, the thread's
//! In-Reply-To / References, and `Auto-Submitted` / `X-Casedesk-Loop` so that no mail program
//! answers it automatically and we never take our own mail in again.

use std::time::Duration;

use casedesk_core::email::{Mailer, OutgoingEmail, SendFailure};
use casedesk_core::webhooks::BoxFuture;
use casedesk_domain::email::{MailSettings, SmtpSecurity};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub struct SmtpMailer {
    timeout: Duration,
}

impl SmtpMailer {
    pub fn new(timeout: Duration) -> Self {
        Self { timeout }
    }
}

fn failure(permanent: bool, message: impl Into<String>) -> SendFailure {
    SendFailure { permanent, message: message.into() }
}

fn mailbox(name: Option<&str>, address: &str) -> Result<Mailbox, SendFailure> {
    let addr = address.parse().map_err(|e| failure(true, format!("bad address {address:?}: {e}")))?;
    Ok(Mailbox::new(name.map(str::to_string), addr))
}

/// `<id>` as a header wants it.
fn angle(id: &str) -> String {
    format!("<{id}>")
}

/// Builds the MIME message.
pub fn build_message(mail: &OutgoingEmail) -> Result<Message, SendFailure> {
    let mut b = Message::builder()
        .from(mailbox(mail.from_name.as_deref(), &mail.from_address)?)
        .subject(mail.subject.clone())
        .message_id(Some(angle(&mail.message_id)))
        .date_now()
        .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), "auto-generated".into()))
        .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("X-Casedesk-Loop"), mail.org_id.clone()))
        .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"), "All".into()));
    for to in &mail.to {
        b = b.to(mailbox(None, to)?);
    }
    for cc in &mail.cc {
        b = b.cc(mailbox(None, cc)?);
    }
    if let Some(parent) = &mail.in_reply_to {
        b = b.in_reply_to(angle(parent));
    }
    if !mail.references.is_empty() {
        b = b.references(mail.references.iter().map(|r| angle(r)).collect::<Vec<_>>().join(" "));
    }
    let text = SinglePart::plain(mail.text.clone());
    let built = if mail.attachments.is_empty() {
        b.singlepart(text)
    } else {
        let mut parts = MultiPart::mixed().singlepart(text);
        for f in &mail.attachments {
            let ct = ContentType::parse(&f.content_type).unwrap_or(ContentType::TEXT_PLAIN);
            parts = parts.singlepart(Attachment::new(f.name.clone()).body(f.bytes.clone(), ct));
        }
        b.multipart(parts)
    };
    built.map_err(|e| failure(true, format!("the message could not be built: {e}")))
}

impl Mailer for SmtpMailer {
    fn send<'a>(&'a self, server: &'a MailSettings, mail: &'a OutgoingEmail) -> BoxFuture<'a, Result<(), SendFailure>> {
        Box::pin(async move {
            let message = build_message(mail)?;
            let Some(host) = server.smtp_host.as_deref() else {
                return Err(failure(false, "no outgoing mail server is set up"));
            };
            let tls = || TlsParameters::new(host.to_string()).map_err(|e| failure(false, format!("TLS set-up: {e}")));
            let security = match server.smtp_security {
                SmtpSecurity::None => Tls::None,
                SmtpSecurity::Starttls => Tls::Required(tls()?),
                SmtpSecurity::Tls => Tls::Wrapper(tls()?),
            };
            let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                .port(server.port())
                .tls(security)
                .timeout(Some(self.timeout));
            if let (Some(user), Some(pass)) = (&server.smtp_username, &server.smtp_password) {
                builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
            }
            let transport: AsyncSmtpTransport<Tokio1Executor> = builder.build();
            match transport.send(message).await {
                Ok(_) => Ok(()),
                // The server's answer, never the credentials.
                Err(e) => Err(failure(e.is_permanent(), format!("SMTP: {e}"))),
            }
        })
    }
}
