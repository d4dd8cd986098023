//! Customer satisfaction (CSAT): the survey a requester gets when a case is resolved, and the
//! rules of answering it.
//!
//! One survey per resolution (a reopened case resolved again gets a new one). A survey is
//! answered on a public page reached by the link in its email; the link carries a random token
//! of which only the SHA-256 is stored. The answer — a rating on the organization's scale and a
//! comment — can be given and changed for [`WINDOW_DAYS`] days after the resolution.

use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::{DomainError, Errors};
use crate::text;

/// Days after the resolution during which a survey takes an answer and changes to it.
pub const WINDOW_DAYS: i64 = 7;
/// The timeline entry (and automation trigger) of an answer.
pub const CSAT_RECEIVED: &str = "csat.received";
const MAX_COMMENT: usize = 5000;

/// The rating scale, an organization setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scale {
    /// "good" or "bad".
    #[default]
    GoodBad,
    /// 1 (worst) to 5 (best).
    OneToFive,
}

impl Scale {
    pub const fn as_str(self) -> &'static str {
        match self {
            Scale::GoodBad => "good_bad",
            Scale::OneToFive => "one_to_five",
        }
    }

    pub fn parse(s: &str) -> Result<Scale, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "good_bad" | "good-bad" | "binary" => Ok(Scale::GoodBad),
            "one_to_five" | "1-5" | "five" | "stars" => Ok(Scale::OneToFive),
            other => Err(format!("unknown scale {other:?}; expected good_bad or one_to_five")),
        }
    }

    /// The score of a rating as given (`good`/`bad`, or `1`–`5`): good is 1, bad 0.
    pub fn score(self, rating: &str) -> Result<i64, String> {
        let r = rating.trim().to_ascii_lowercase();
        match self {
            Scale::GoodBad => match r.as_str() {
                "good" => Ok(1),
                "bad" => Ok(0),
                _ => Err("expected good or bad".into()),
            },
            Scale::OneToFive => match r.parse::<i64>() {
                Ok(n @ 1..=5) => Ok(n),
                _ => Err("expected a whole number from 1 to 5".into()),
            },
        }
    }

    /// How a score reads: `good`/`bad`, or the number.
    pub fn rating(self, score: i64) -> String {
        match self {
            Scale::GoodBad => if score >= 1 { "good" } else { "bad" }.to_string(),
            Scale::OneToFive => score.to_string(),
        }
    }

    /// Whether a score is a satisfied answer: good, or 4 and 5.
    pub fn positive(self, score: i64) -> bool {
        match self {
            Scale::GoodBad => score >= 1,
            Scale::OneToFive => score >= 4,
        }
    }

    /// The choices a form offers, best first: (value, label).
    pub fn choices(self) -> Vec<(String, String)> {
        match self {
            Scale::GoodBad => {
                vec![("good".into(), "Good, I'm satisfied".into()), ("bad".into(), "Bad, I'm unsatisfied".into())]
            }
            Scale::OneToFive => (1..=5).rev().map(|n| (n.to_string(), format!("{n} of 5"))).collect(),
        }
    }
}

/// An organization's survey settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    pub org_id: String,
    /// Whether resolved cases send surveys (off until an admin turns it on).
    pub enabled: bool,
    pub scale: Scale,
}

/// One survey: sent for one resolution of a case, answered at most once (the answer may change
/// within the window).
#[derive(Debug, Clone, PartialEq)]
pub struct Survey {
    pub id: String,
    pub org_id: String,
    pub case_id: String,
    /// The requester asked (contact or user id).
    pub requester_id: String,
    /// SHA-256 (hex) of the link's token.
    pub token_hash: String,
    pub scale: Scale,
    pub score: Option<i64>,
    pub comment: Option<String>,
    /// The resolution the survey is about; it takes answers until `expires_at`.
    pub resolved_at: Timestamp,
    pub expires_at: Timestamp,
    pub answered_at: Option<Timestamp>,
    /// The organization's day of the first answer, for reports.
    pub answered_day: Option<i32>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The case as it was resolved, for grouping the answers in reports.
    pub queue_id: Option<String>,
    pub owner_id: Option<String>,
    pub priority: i64,
    pub channel: String,
    pub category_id: Option<String>,
}

/// A new link token: 256 random bits, URL-safe.
pub fn new_token() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..43).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// What is stored of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// An answer as given.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub rating: String,
    pub comment: Option<String>,
}

impl Survey {
    /// A survey about the resolution of a case at `resolved_at`.
    pub fn new(
        case: &crate::case::Case,
        scale: Scale,
        token_hash: String,
        resolved_at: Timestamp,
        now: Timestamp,
    ) -> Survey {
        Survey {
            id: crate::ids::IdKind::CsatSurvey.new_id(),
            org_id: case.org_id.clone(),
            case_id: case.id.clone(),
            requester_id: case.requester_id.clone(),
            token_hash,
            scale,
            score: None,
            comment: None,
            resolved_at,
            expires_at: resolved_at + SignedDuration::from_hours(24 * WINDOW_DAYS),
            answered_at: None,
            answered_day: None,
            created_at: now,
            updated_at: now,
            queue_id: case.queue_id.clone(),
            owner_id: case.owner_id.clone(),
            priority: case.priority.rank(),
            channel: case.channel.as_str().to_string(),
            category_id: case.category_id.clone(),
        }
    }

    pub fn is_open(&self, now: Timestamp) -> bool {
        now < self.expires_at
    }

    /// Records an answer at `now` (`day`: the organization's day), returning the timeline entry.
    /// A closed survey answers 409 `csat_closed`; a bad rating or comment 422 naming the field.
    pub fn answer(&mut self, answer: Answer, now: Timestamp, day: i32) -> Result<Value, DomainError> {
        if !self.is_open(now) {
            return Err(DomainError::Conflict {
                code: "csat_closed",
                message: format!("this survey took answers for {WINDOW_DAYS} days after the case was resolved"),
            });
        }
        let mut errors = Errors::new();
        let score = errors.take("rating", self.scale.score(&answer.rating));
        let comment = match answer.comment.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => errors.take("comment", text::bounded(c, MAX_COMMENT)),
            None => None,
        };
        errors.finish()?;
        let score = score.unwrap_or_default();
        let changed = self.score.is_some();
        self.score = Some(score);
        self.comment = comment;
        self.answered_at = self.answered_at.or(Some(now));
        self.answered_day = self.answered_day.or(Some(day));
        self.updated_at = now;
        Ok(json!({
            "survey_id": self.id,
            "rating": self.scale.rating(score),
            "score": score,
            "scale": self.scale.as_str(),
            "positive": self.scale.positive(score),
            "comment": self.comment,
            "changed": changed,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn survey(scale: Scale) -> Survey {
        let t: Timestamp = "2026-05-01T10:00:00Z".parse().expect("ts");
        let case = crate::case::Case::create(
            crate::case::NewCase { subject: "s".into(), ..Default::default() },
            &crate::case::Ctx { org_id: "org_1", actor_id: "usr_1", now: t, tz: &jiff::tz::TimeZone::UTC },
        )
        .expect("case");
        Survey::new(&case, scale, token_hash("x"), t, t)
    }

    #[test]
    fn scales_score_and_read_ratings() {
        assert_eq!(Scale::GoodBad.score("Good"), Ok(1));
        assert_eq!(Scale::GoodBad.score("bad"), Ok(0));
        assert!(Scale::GoodBad.score("3").is_err());
        assert_eq!(Scale::OneToFive.score("4"), Ok(4));
        assert!(Scale::OneToFive.score("6").is_err());
        assert!(Scale::OneToFive.score("good").is_err());
        assert!(Scale::OneToFive.positive(4) && !Scale::OneToFive.positive(3));
        assert_eq!(Scale::GoodBad.rating(0), "bad");
        assert_eq!(Scale::parse("1-5"), Ok(Scale::OneToFive));
    }

    #[test]
    fn an_answer_can_change_within_the_window_only() {
        let mut s = survey(Scale::OneToFive);
        let t = s.resolved_at;
        let first = s.answer(Answer { rating: "2".into(), comment: Some(" slow ".into()) }, t, 1).expect("answer");
        assert_eq!(first["changed"], false);
        assert_eq!(s.comment.as_deref(), Some("slow"));
        let later = t + SignedDuration::from_hours(24 * 7 - 1);
        let second = s.answer(Answer { rating: "5".into(), comment: None }, later, 2).expect("change");
        assert_eq!(second["changed"], true);
        assert_eq!(s.score, Some(5));
        assert_eq!(s.answered_at, Some(t));
        assert_eq!(s.answered_day, Some(1));
        let closed = t + SignedDuration::from_hours(24 * 7);
        assert!(matches!(
            s.answer(Answer { rating: "1".into(), comment: None }, closed, 3),
            Err(DomainError::Conflict { code: "csat_closed", .. })
        ));
        let bad = s.answer(Answer { rating: "9".into(), comment: None }, later, 2);
        assert!(matches!(bad, Err(DomainError::Validation(_))));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
