//! Opaque identifiers with a type prefix (`case_0192…`), as the API shows them.
//!
//! The part after the prefix is a UUIDv7 in hex, so ids sort roughly by creation time, which
//! keeps B-tree inserts at the right-hand edge of the index.

/// The kinds of record that have an id, each with its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Org,
    User,
    Token,
    Account,
    Contact,
    Case,
    Comment,
    Queue,
    Calendar,
    SlaPolicy,
    CustomStatus,
    FunnelStage,
    Link,
    Category,
    Activity,
    Milestone,
    MilestoneTemplate,
    TimeType,
    TimeEntry,
    Timer,
    File,
    View,
    BulkJob,
    Webhook,
    WebhookDelivery,
    SigningKey,
    Mailbox,
    Email,
    AutomationRule,
    Notification,
    Macro,
    CsatSurvey,
    ChannelConnector,
    ChannelDelivery,
}

impl IdKind {
    pub const fn prefix(self) -> &'static str {
        match self {
            IdKind::Org => "org_",
            IdKind::User => "usr_",
            IdKind::Token => "tok_",
            IdKind::Account => "acc_",
            IdKind::Contact => "cnt_",
            IdKind::Case => "case_",
            IdKind::Comment => "cmt_",
            IdKind::Queue => "q_",
            IdKind::Calendar => "cal_",
            IdKind::SlaPolicy => "sla_",
            IdKind::CustomStatus => "cst_",
            IdKind::FunnelStage => "stg_",
            IdKind::Link => "lnk_",
            IdKind::Category => "ccat_",
            IdKind::Activity => "act_",
            IdKind::Milestone => "ms_",
            IdKind::MilestoneTemplate => "mst_",
            IdKind::TimeType => "tt_",
            IdKind::TimeEntry => "te_",
            IdKind::Timer => "tmr_",
            IdKind::File => "fil_",
            IdKind::View => "vw_",
            IdKind::BulkJob => "bulk_",
            IdKind::Webhook => "wh_",
            IdKind::WebhookDelivery => "whd_",
            IdKind::SigningKey => "sk_",
            IdKind::Mailbox => "mbx_",
            IdKind::Email => "eml_",
            IdKind::AutomationRule => "rule_",
            IdKind::Notification => "ntf_",
            IdKind::Macro => "mac_",
            IdKind::CsatSurvey => "csat_",
            IdKind::ChannelConnector => "chc_",
            IdKind::ChannelDelivery => "chd_",
        }
    }

    /// A new, unique id of this kind.
    pub fn new_id(self) -> String {
        format!("{}{}", self.prefix(), uuid::Uuid::now_v7().simple())
    }

    /// Whether `id` has this kind's prefix and a plausible body. Ids are opaque to clients, but a
    /// wrong prefix is always a mistake worth naming (a contact id where an account id belongs).
    pub fn matches(self, id: &str) -> bool {
        id.strip_prefix(self.prefix()).is_some_and(|rest| {
            !rest.is_empty() && rest.len() <= 64 && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_carry_their_prefix_and_are_unique() {
        let a = IdKind::Case.new_id();
        let b = IdKind::Case.new_id();
        assert!(a.starts_with("case_"));
        assert_ne!(a, b);
        assert!(IdKind::Case.matches(&a));
        assert!(!IdKind::Contact.matches(&a));
    }

    #[test]
    fn matches_rejects_empty_and_odd_bodies() {
        assert!(!IdKind::Case.matches("case_"));
        assert!(!IdKind::Case.matches("case_a b"));
        assert!(!IdKind::Case.matches("case_'; drop"));
        assert!(IdKind::Queue.matches("q_support_t1"));
    }
}
