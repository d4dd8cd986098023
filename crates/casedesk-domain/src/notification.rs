//! In-app notifications: a message for one agent (an escalation alert a rule sent), read or not.

use jiff::Timestamp;

#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: String,
    pub org_id: String,
    /// The agent it is for.
    pub user_id: String,
    pub case_id: Option<String>,
    /// The rule that sent it, if a rule did.
    pub rule_id: Option<String>,
    pub message: String,
    pub read_at: Option<Timestamp>,
    pub created_at: Timestamp,
}
