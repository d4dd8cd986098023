//! Email as casedesk sees it: an inbound message reduced to what a case needs, the rules that
//! keep mail loops out, the clues by which a reply finds its case, and the trimming of quoted
//! history and signatures from what a customer wrote.
//!
//! Parsing (MIME, charsets, encoded words) is mail-parser's; everything here is a pure function
//! of the message's bytes.

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

/// The tag a case's number has in the subjects of its mail: `[#123]`.
pub fn subject_tag(case_number: i64) -> String {
    format!("[#{case_number}]")
}

/// One address of a header, lower-cased, with its display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub address: String,
    pub name: Option<String>,
}

/// A file carried by a message: an attachment or an inline image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailFile {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub inline: bool,
}

/// An inbound message, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMail {
    /// Without angle brackets. A message without one gets `<sha256 of its bytes>@casedesk.invalid`,
    /// so that the same bytes delivered twice are still recognised.
    pub message_id: String,
    /// The ids of `In-Reply-To`, then those of `References` from the newest to the oldest.
    pub thread_ids: Vec<String>,
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// The envelope recipients an MTA recorded (`Delivered-To`, `X-Original-To`, `Envelope-To`).
    pub delivered_to: Vec<String>,
    pub subject: String,
    /// The text the sender wrote (HTML turned into text when there is no plain part), untrimmed.
    pub text: String,
    pub files: Vec<MailFile>,
    /// Why the message was written by a machine (an auto-reply, a bounce, bulk mail), if it was.
    pub automated: Option<String>,
}

impl InboundMail {
    /// Every address the message was sent to: envelope recipients, then `To`, then `Cc`.
    pub fn recipients(&self) -> Vec<String> {
        let mut all: Vec<String> = self.delivered_to.clone();
        for m in self.to.iter().chain(&self.cc) {
            if !all.contains(&m.address) {
                all.push(m.address.clone());
            }
        }
        all
    }
}

/// Why a message cannot become a case or a comment however it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// Not a message at all, or one without a sender.
    Malformed(String),
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreadable::Malformed(why) => write!(f, "malformed message: {why}"),
        }
    }
}

/// Most files a message may bring to a case; the rest stay in the kept original.
pub const MAX_FILES: usize = 20;
/// Longest subject kept (a case's subject limit).
const MAX_SUBJECT: usize = 250;

/// Parses a raw RFC 5322 message.
pub fn parse(raw: &[u8]) -> Result<InboundMail, Unreadable> {
    if raw.iter().take(2048).all(u8::is_ascii_whitespace) {
        return Err(Unreadable::Malformed("the message is empty".into()));
    }
    let msg = MessageParser::default().parse(raw).ok_or_else(|| Unreadable::Malformed("no RFC 5322 headers".into()))?;
    let from = msg
        .from()
        .and_then(first_mailbox)
        .or_else(|| msg.sender().and_then(first_mailbox))
        .ok_or_else(|| Unreadable::Malformed("no sender address in From".into()))?;
    let message_id = match msg.message_id().map(clean_id).filter(|id| !id.is_empty()) {
        Some(id) => id,
        None => format!("{}@casedesk.invalid", hex::encode(Sha256::digest(raw))),
    };
    let mut thread_ids = ids_of(msg.in_reply_to());
    for id in ids_of(msg.references()).into_iter().rev() {
        if !thread_ids.contains(&id) {
            thread_ids.push(id);
        }
    }
    let mut delivered_to = Vec::new();
    for name in ["Delivered-To", "X-Original-To", "Envelope-To"] {
        for (h, v) in msg.headers_raw() {
            if h.eq_ignore_ascii_case(name) {
                let a = bare_address(v);
                if a.contains('@') && !delivered_to.contains(&a) {
                    delivered_to.push(a);
                }
            }
        }
    }
    let subject = msg.subject().map(|s| one_line(s, MAX_SUBJECT)).unwrap_or_default();
    let text = body_text(&msg);
    let files = files_of(&msg);
    let automated = automated_reason(&msg, &from);
    Ok(InboundMail {
        message_id,
        thread_ids,
        from,
        to: mailboxes(msg.to()),
        cc: mailboxes(msg.cc()),
        delivered_to,
        subject,
        text,
        files,
        automated,
    })
}

fn clean_id(id: &str) -> String {
    id.trim().trim_start_matches('<').trim_end_matches('>').trim().to_string()
}

fn ids_of(v: &HeaderValue<'_>) -> Vec<String> {
    let raw: Vec<String> = match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    };
    raw.iter().map(|s| clean_id(s)).filter(|s| !s.is_empty()).collect()
}

fn bare_address(v: &str) -> String {
    let v = v.trim();
    let v = match (v.rfind('<'), v.rfind('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v,
    };
    v.trim().to_lowercase()
}

fn first_mailbox(a: &Address<'_>) -> Option<Mailbox> {
    a.iter().find_map(mailbox)
}

fn mailbox(a: &mail_parser::Addr<'_>) -> Option<Mailbox> {
    let address = a.address()?.trim().to_lowercase();
    if !address.contains('@') {
        return None;
    }
    let name = a.name().map(|n| one_line(n, 200)).filter(|n| !n.is_empty() && n.to_lowercase() != address);
    Some(Mailbox { address, name })
}

fn mailboxes(a: Option<&Address<'_>>) -> Vec<Mailbox> {
    let mut out: Vec<Mailbox> = Vec::new();
    for m in a.into_iter().flat_map(|a| a.iter()).filter_map(mailbox) {
        if !out.iter().any(|o| o.address == m.address) {
            out.push(m);
        }
    }
    out
}

fn one_line(s: &str, max: usize) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    joined.chars().take(max).collect()
}

/// The message's own text: every plain (or HTML-as-text) body part of the top level, joined.
fn body_text(msg: &mail_parser::Message<'_>) -> String {
    let mut parts = Vec::new();
    for i in 0..msg.text_body_count() {
        if let Some(t) = msg.body_text(i) {
            let t = t.replace("\r\n", "\n");
            if !t.trim().is_empty() {
                parts.push(t.trim_end().to_string());
            }
        }
    }
    parts.join("\n\n")
}

fn files_of(msg: &mail_parser::Message<'_>) -> Vec<MailFile> {
    let mut files = Vec::new();
    for (i, part) in msg.attachments().enumerate() {
        if files.len() == MAX_FILES {
            break;
        }
        let bytes = part.contents();
        if bytes.is_empty() {
            continue;
        }
        let content_type = match part.content_type() {
            Some(ct) => match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub).to_lowercase(),
                None => ct.ctype().to_lowercase(),
            },
            None => "application/octet-stream".into(),
        };
        let is_message = matches!(part.body, PartType::Message(_));
        let name = match part.attachment_name().map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => n.to_string(),
            None if is_message => format!("message-{}.eml", i + 1),
            None => format!("attachment-{}{}", i + 1, extension_for(&content_type)),
        };
        let inline = part.content_disposition().is_some_and(|d| d.is_inline()) || part.content_id().is_some();
        files.push(MailFile { name, content_type, bytes: bytes.to_vec(), inline });
    }
    files
}

fn extension_for(content_type: &str) -> &'static str {
    match content_type {
        "image/png" => ".png",
        "image/jpeg" => ".jpg",
        "image/gif" => ".gif",
        "application/pdf" => ".pdf",
        "text/plain" => ".txt",
        "message/rfc822" => ".eml",
        _ => ".bin",
    }
}

/// Why a message was written by a machine rather than a person, from its headers: replying to
/// one, or opening a case for it, is how mail loops start.
fn automated_reason(msg: &mail_parser::Message<'_>, from: &Mailbox) -> Option<String> {
    let raw = |name: &str| {
        msg.headers_raw().find(|(h, _)| h.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_lowercase())
    };
    if let Some(v) = raw("Auto-Submitted")
        && v != "no"
    {
        return Some(format!("auto-submitted ({v})"));
    }
    if let Some(v) = raw("Precedence")
        && matches!(v.as_str(), "bulk" | "junk" | "list" | "auto_reply")
    {
        return Some(format!("precedence {v}"));
    }
    for h in ["X-Autoreply", "X-Autorespond", "X-Auto-Reply"] {
        if raw(h).is_some() {
            return Some("auto-reply".into());
        }
    }
    if raw("X-Casedesk-Loop").is_some() {
        return Some("sent by casedesk".into());
    }
    if raw("List-Id").is_some() || raw("List-Unsubscribe").is_some() {
        return Some("mailing list".into());
    }
    if msg.root_part().is_content_type("multipart", "report") {
        return Some("delivery report (bounce)".into());
    }
    if raw("Return-Path").is_some_and(|v| v == "<>") {
        return Some("bounce (empty return path)".into());
    }
    let local = from.address.split('@').next().unwrap_or_default();
    if matches!(local, "mailer-daemon" | "postmaster") {
        return Some(format!("sent by {local}"));
    }
    None
}

/// The case number a subject's `[#123]` tag names, if any.
pub fn tagged_case_number(subject: &str) -> Option<i64> {
    let mut rest = subject;
    while let Some(at) = rest.find("[#") {
        let after = &rest[at + 2..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && after[digits.len()..].starts_with(']') {
            return digits.parse().ok();
        }
        rest = after;
    }
    None
}

/// The subject of our mail about a case: the case's subject with the reply prefix and the
/// number tag, once each whatever the subject already had.
pub fn reply_subject(subject: &str, case_number: i64) -> String {
    let tag = subject_tag(case_number);
    let mut s = subject.replace(&tag, "");
    loop {
        let t = s.trim_start();
        let lower = t.to_lowercase();
        let cut = ["re:", "aw:", "sv:", "fw:", "fwd:", "wg:"].iter().find(|p| lower.starts_with(*p)).map(|p| p.len());
        match cut {
            Some(n) => s = t[n..].to_string(),
            None => {
                s = t.to_string();
                break;
            }
        }
    }
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.is_empty() { format!("Re: {tag}") } else { format!("Re: {s} {tag}") }
}

/// What a person wrote in a reply, without the history their mail program quoted below it or
/// their signature. Forwarded content is kept: it is what the sender meant to send. When
/// trimming would leave nothing, the untrimmed text is the reply.
pub fn trim_reply(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let lower = line.trim().to_lowercase();
        if lower.contains("forwarded message") || lower.starts_with("begin forwarded message") {
            break;
        }
        if starts_quoted_history(&lines, i) || is_signature_start(line) {
            end = i;
            break;
        }
    }
    let mut kept: Vec<&str> = lines[..end].to_vec();
    // A bottom-quoted reply without a header line: drop the trailing `>` block.
    while kept.last().is_some_and(|l| l.trim().is_empty() || l.trim_start().starts_with('>')) {
        kept.pop();
    }
    let out = kept.join("\n").trim().to_string();
    if out.is_empty() { text.trim().to_string() } else { out }
}

fn starts_quoted_history(lines: &[&str], i: usize) -> bool {
    let line = lines[i].trim();
    let lower = line.to_lowercase();
    if lower.starts_with("-----original message-----")
        || lower.starts_with("-------- original message --------")
        || lower.starts_with("----- original message -----")
    {
        return true;
    }
    // Outlook: a rule, then "From: … / Sent: …" (or the rule is left out).
    if line.starts_with("________________________________") {
        return lines.get(i + 1).is_some_and(|n| n.trim_start().to_lowercase().starts_with("from:"));
    }
    if lower.starts_with("from:") {
        let next = lines.get(i + 1).map(|n| n.trim_start().to_lowercase()).unwrap_or_default();
        return next.starts_with("sent:") || next.starts_with("date:");
    }
    // "On Mon, 3 Mar 2025 at 10:00, Ana <ana@example.com> wrote:" — often wrapped over two lines.
    let joined = match lines.get(i + 1) {
        Some(next) if !lower.ends_with(':') => format!("{lower} {}", next.trim().to_lowercase()),
        _ => lower.clone(),
    };
    let wrote = ["wrote", "schrieb", "a écrit", "escribió", "skrev", "ha scritto"];
    let opens = ["on ", "am ", "le ", "el ", "il "].iter().any(|p| lower.starts_with(p));
    if opens && joined.ends_with(':') && wrote.iter().any(|w| joined.contains(w)) {
        return true;
    }
    false
}

fn is_signature_start(line: &str) -> bool {
    let l = line.trim_end_matches('\r');
    if l == "-- " || l == "--" {
        return true;
    }
    let lower = l.trim().to_lowercase();
    lower.starts_with("sent from my ") || lower == "get outlook for ios" || lower == "get outlook for android"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(headers: &str, body: &str) -> Vec<u8> {
        format!("{headers}\r\n\r\n{body}").into_bytes()
    }

    #[test]
    fn a_plain_message_gives_its_sender_recipients_subject_and_text() {
        let raw = mail(
            "From: \"Ana Silva\" <Ana@Example.com>\r\nTo: Support <support@acme.test>, bob@acme.test\r\nCc: carl@x.test\r\n\
             Delivered-To: help@acme.test\r\nSubject: Printer   on fire\r\nMessage-ID: <abc@mail.example.com>",
            "Hello,\r\nit burns.",
        );
        let m = parse(&raw).unwrap();
        assert_eq!(m.from, Mailbox { address: "ana@example.com".into(), name: Some("Ana Silva".into()) });
        assert_eq!(m.message_id, "abc@mail.example.com");
        assert_eq!(m.subject, "Printer on fire");
        assert_eq!(m.text, "Hello,\nit burns.");
        assert_eq!(m.recipients(), vec!["help@acme.test", "support@acme.test", "bob@acme.test", "carl@x.test"]);
        assert_eq!(m.automated, None);
    }

    #[test]
    fn thread_ids_put_in_reply_to_first_then_references_newest_first() {
        let raw = mail(
            "From: a@b.test\r\nSubject: Re: x\r\nIn-Reply-To: <three@x>\r\nReferences: <one@x> <two@x>\r\n <three@x>",
            "ok",
        );
        assert_eq!(parse(&raw).unwrap().thread_ids, vec!["three@x", "two@x", "one@x"]);
    }

    #[test]
    fn a_message_without_an_id_gets_one_from_its_bytes() {
        let raw = mail("From: a@b.test\r\nSubject: x", "same");
        let a = parse(&raw).unwrap().message_id;
        assert!(a.ends_with("@casedesk.invalid"));
        assert_eq!(a, parse(&raw).unwrap().message_id);
    }

    #[test]
    fn messages_without_a_sender_or_headers_are_malformed() {
        assert!(parse(b"").is_err());
        assert!(parse(b"   \r\n ").is_err());
        assert!(parse(&mail("Subject: nobody", "x")).is_err());
        assert!(parse(&mail("From: not an address", "x")).is_err());
    }

    #[test]
    fn machine_written_mail_is_recognised() {
        let cases = [
            ("Auto-Submitted: auto-replied", Some("auto-submitted (auto-replied)")),
            ("Auto-Submitted: no", None),
            ("Precedence: bulk", Some("precedence bulk")),
            ("Precedence: list", Some("precedence list")),
            ("Precedence: junk", Some("precedence junk")),
            ("X-Autoreply: yes", Some("auto-reply")),
            ("List-Id: <news.example.com>", Some("mailing list")),
            ("X-Casedesk-Loop: acme", Some("sent by casedesk")),
            ("Return-Path: <>", Some("bounce (empty return path)")),
        ];
        for (header, want) in cases {
            let raw = mail(&format!("From: a@b.test\r\nSubject: x\r\n{header}"), "hi");
            assert_eq!(parse(&raw).unwrap().automated.as_deref(), want, "{header}");
        }
        let daemon = mail("From: MAILER-DAEMON@mx.example.com\r\nSubject: Undelivered", "x");
        assert_eq!(parse(&daemon).unwrap().automated.as_deref(), Some("sent by mailer-daemon"));
        let report = mail(
            "From: mx@example.com\r\nSubject: failure\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"",
            "--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n",
        );
        assert_eq!(parse(&report).unwrap().automated.as_deref(), Some("delivery report (bounce)"));
    }

    #[test]
    fn the_subject_tag_is_found_only_when_well_formed() {
        assert_eq!(tagged_case_number("Re: printer [#42]"), Some(42));
        assert_eq!(tagged_case_number("[#x] then [#7] ok"), Some(7));
        assert_eq!(tagged_case_number("issue #42"), None);
        assert_eq!(tagged_case_number("[#42 ]"), None);
    }

    #[test]
    fn reply_subjects_carry_one_prefix_and_one_tag() {
        assert_eq!(reply_subject("Printer on fire", 7), "Re: Printer on fire [#7]");
        assert_eq!(reply_subject("RE: Aw: Printer on fire [#7]", 7), "Re: Printer on fire [#7]");
        assert_eq!(reply_subject("", 7), "Re: [#7]");
    }

    #[test]
    fn replies_lose_quoted_history_and_signatures() {
        let gmail = "Thanks, that worked.\n\nOn Mon, 3 Mar 2025 at 10:00, Support <help@acme.test> wrote:\n> Try turning it off.\n";
        assert_eq!(trim_reply(gmail), "Thanks, that worked.");
        let wrapped = "Yes.\n\nOn Mon, 3 Mar 2025 at 10:00, Support Team\n<help@acme.test> wrote:\n> x";
        assert_eq!(trim_reply(wrapped), "Yes.");
        let outlook = "Still broken.\r\n\r\n________________________________\r\nFrom: Support <help@acme.test>\r\nSent: Monday\r\nSubject: x\r\n\r\nold";
        assert_eq!(trim_reply(outlook), "Still broken.");
        let outlook2 = "See below.\n\n-----Original Message-----\nFrom: x\nold";
        assert_eq!(trim_reply(outlook2), "See below.");
        let headers = "Fine now.\n\nFrom: Support <help@acme.test>\nDate: Mon\nold text";
        assert_eq!(trim_reply(headers), "Fine now.");
        let signature = "Great.\n\n-- \nAna Silva\nACME";
        assert_eq!(trim_reply(signature), "Great.");
        let phone = "OK!\n\nSent from my iPhone";
        assert_eq!(trim_reply(phone), "OK!");
        let bottom = "Done.\n\n> earlier\n> text\n";
        assert_eq!(trim_reply(bottom), "Done.");
        let german = "Danke.\n\nAm 03.03.2025 um 10:00 schrieb Support <help@acme.test>:\n> x";
        assert_eq!(trim_reply(german), "Danke.");
    }

    #[test]
    fn forwarded_content_and_inline_answers_are_kept() {
        let fwd = "FYI, see below.\n\n---------- Forwarded message ---------\nFrom: Zoe <zoe@x.test>\nDate: Mon\nSubject: broken\n\nIt is broken.";
        // The forwarded block's "From: / Date:" is content the sender chose to send, not history.
        assert!(trim_reply(fwd).contains("Forwarded message"));
        let only_quote = "> just a quote";
        assert_eq!(trim_reply(only_quote), "> just a quote");
    }
}
