//! Users (agents and admins), contacts (the people who ask) and accounts (their companies).

use jiff::Timestamp;

use crate::error::{DomainError, Errors};
use crate::policy::Role;
use crate::text;

/// Whether an agent can take work now. Routing skips agents who are not available.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Available,
    Away,
    Offline,
}

impl Availability {
    pub const fn as_str(self) -> &'static str {
        match self {
            Availability::Available => "available",
            Availability::Away => "away",
            Availability::Offline => "offline",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "available" | "online" => Ok(Availability::Available),
            "away" | "busy" => Ok(Availability::Away),
            "offline" => Ok(Availability::Offline),
            _ => Err(format!("unknown availability {s:?}; expected one of available, away, offline")),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub availability: Availability,
    /// Most active (not resolved or closed) cases the router gives them at once; `None` = no
    /// limit.
    pub max_open_cases: Option<i64>,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub domain: Option<String>,
    /// A free label such as `vip`, `gold` or `standard`; routing gives VIP tiers precedence.
    pub tier: Option<String>,
    /// Whether the account's contacts see each other's cases in the customer portal (off by
    /// default: a requester sees only their own).
    pub portal_shares_cases: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub id: String,
    pub org_id: String,
    pub account_id: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The contact's id in the host application (external visitors).
    pub external_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A partial update of an account or contact field set: `None` leaves a field alone,
/// `Some(None)` clears it.
pub type Opt<T> = Option<Option<T>>;

#[derive(Debug, Clone, Default)]
pub struct AccountInput {
    pub name: Option<String>,
    pub domain: Opt<String>,
    pub tier: Opt<String>,
    pub portal_shares_cases: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct ContactInput {
    pub name: Option<String>,
    pub email: Opt<String>,
    pub phone: Opt<String>,
    pub account_id: Opt<String>,
    pub external_id: Opt<String>,
}

fn opt_line(field: &str, v: Opt<String>, max: usize, errors: &mut Errors) -> Opt<String> {
    match v {
        Some(Some(s)) if s.trim().is_empty() => Some(None),
        Some(Some(s)) => errors.take(field, text::bounded(s.trim(), max)).map(Some),
        other => other,
    }
}

impl Account {
    /// Applies `input` to `base` (a fresh account when creating), validating every field.
    pub fn apply(mut base: Account, input: AccountInput, creating: bool) -> Result<Account, DomainError> {
        let mut errors = Errors::new();
        match input.name {
            Some(n) => {
                if let Some(n) = errors.take("name", text::required_line(&n, 200)) {
                    base.name = n;
                }
            }
            None if creating => errors.add("name", "is required"),
            None => {}
        }
        if let Some(d) = opt_line("domain", input.domain, 253, &mut errors) {
            base.domain = d.map(|d| d.to_lowercase());
        }
        if let Some(t) = opt_line("tier", input.tier, 64, &mut errors) {
            base.tier = t.map(|t| t.to_lowercase());
        }
        if let Some(share) = input.portal_shares_cases {
            base.portal_shares_cases = share;
        }
        errors.finish()?;
        Ok(base)
    }
}

impl Contact {
    pub fn apply(mut base: Contact, input: ContactInput, creating: bool) -> Result<Contact, DomainError> {
        let mut errors = Errors::new();
        if let Some(n) = input.name
            && let Some(n) = errors.take("name", text::required_line(&n, 200))
        {
            base.name = n;
        }
        match input.email {
            Some(Some(e)) if !e.trim().is_empty() => base.email = errors.take("email", text::email(&e)),
            Some(_) => base.email = None,
            None => {}
        }
        if let Some(p) = opt_line("phone", input.phone, 64, &mut errors) {
            base.phone = p;
        }
        if let Some(a) = input.account_id {
            base.account_id = a;
        }
        if let Some(x) = opt_line("external_id", input.external_id, 200, &mut errors) {
            base.external_id = x;
        }
        // A contact needs a name; one known only by an address is named after it.
        if base.name.is_empty() {
            match (&base.email, &base.phone) {
                (Some(e), _) => base.name = e.clone(),
                (None, Some(p)) => base.name = p.clone(),
                (None, None) if creating => errors.add("name", "a contact needs a name, an email or a phone"),
                (None, None) => {}
            }
        }
        errors.finish()?;
        Ok(base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank_contact() -> Contact {
        Contact {
            id: "cnt_1".into(),
            org_id: "org_1".into(),
            account_id: None,
            name: String::new(),
            email: None,
            phone: None,
            external_id: None,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_contact_known_by_email_only_is_named_after_it() {
        let c = Contact::apply(
            blank_contact(),
            ContactInput { email: Some(Some("Ana@X.com".into())), ..Default::default() },
            true,
        )
        .expect("ok");
        assert_eq!(c.name, "ana@x.com");
        assert_eq!(c.email.as_deref(), Some("ana@x.com"));
    }

    #[test]
    fn a_contact_needs_some_identity() {
        assert!(Contact::apply(blank_contact(), ContactInput::default(), true).is_err());
        let err = Contact::apply(
            blank_contact(),
            ContactInput { email: Some(Some("nope".into())), ..Default::default() },
            true,
        )
        .expect_err("bad email");
        let DomainError::Validation(f) = err else { panic!() };
        assert_eq!(f[0].field, "email");
    }

    #[test]
    fn an_account_needs_a_name_on_create_only() {
        let base = Account {
            id: "acc_1".into(),
            org_id: "org_1".into(),
            name: String::new(),
            domain: None,
            tier: None,
            portal_shares_cases: false,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        };
        assert!(Account::apply(base.clone(), AccountInput::default(), true).is_err());
        let named = Account { name: "Acme".into(), ..base };
        let a = Account::apply(named, AccountInput { tier: Some(Some("VIP".into())), ..Default::default() }, false)
            .expect("ok");
        assert_eq!(a.tier.as_deref(), Some("vip"));
    }
}

/// The key by which a phone number is matched, however it was written: its last ten digits
/// (`+1 (415) 555-0100`, `415.555.0100` and `0014155550100` are one number). `None` for fewer
/// than four digits, which identify no one.
pub fn phone_key(phone: &str) -> Option<String> {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 4 {
        return None;
    }
    Some(digits[digits.len().saturating_sub(10)..].iter().collect())
}

#[cfg(test)]
mod phone_tests {
    use super::phone_key;

    #[test]
    fn one_number_however_it_is_written() {
        let key = phone_key("+1 (415) 555-0100");
        assert_eq!(key.as_deref(), Some("4155550100"));
        for same in ["415.555.0100", "0014155550100", "tel:+14155550100", "4155550100"] {
            assert_eq!(phone_key(same), key, "{same}");
        }
        assert_eq!(phone_key("555-0100").as_deref(), Some("5550100"));
        assert_eq!(phone_key("+44 20 7946 0958").as_deref(), Some("2079460958"));
        assert_eq!(phone_key("ext 12"), None);
        assert_eq!(phone_key(""), None);
    }
}
