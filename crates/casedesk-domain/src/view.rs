//! Views: a saved query with the columns to show and an order (seeds 003 and 004). Every user
//! has the predefined ones; custom views belong to their creator, a queue or the organization.

use jiff::Timestamp;

use crate::error::{DomainError, Errors};
use crate::list::Ordering;
use crate::text;

/// Statuses of work still to do, as a condition.
const ACTIVE: &str = "status:new,open,pending,on_hold";

/// A view every user has, defined by a query in the search syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Predefined {
    pub id: &'static str,
    pub name: &'static str,
    pub query: &'static str,
    pub ordering: Ordering,
}

pub const PREDEFINED: &[Predefined] = &[
    Predefined {
        id: "my-cases",
        name: "My cases",
        query: "assignee:me status:new,open,pending,on_hold",
        ordering: Ordering::UpdatedDesc,
    },
    Predefined {
        id: "unassigned",
        name: "Unassigned",
        query: "assignee:none status:new,open,pending,on_hold",
        ordering: Ordering::CreatedAsc,
    },
    Predefined {
        id: "overdue",
        name: "Overdue",
        query: "sla:overdue status:new,open,pending,on_hold",
        ordering: Ordering::PriorityDesc,
    },
    Predefined { id: "all-open", name: "All open", query: ACTIVE, ordering: Ordering::UpdatedDesc },
    Predefined { id: "created-by-me", name: "Created by me", query: "created_by:me", ordering: Ordering::CreatedDesc },
    Predefined { id: "updated-by-me", name: "Updated by me", query: "updated_by:me", ordering: Ordering::UpdatedDesc },
    Predefined { id: "open", name: "Open", query: "status:open", ordering: Ordering::UpdatedDesc },
    Predefined { id: "closed", name: "Closed", query: "status:resolved,closed", ordering: Ordering::UpdatedDesc },
    Predefined { id: "all", name: "All", query: "", ordering: Ordering::CreatedDesc },
];

pub fn predefined(id: &str) -> Option<&'static Predefined> {
    PREDEFINED.iter().find(|p| p.id == id)
}

/// Columns a view can show; `cf.<key>` shows a custom field.
pub const COLUMNS: &[&str] = &[
    "case_number",
    "subject",
    "status",
    "custom_status",
    "priority",
    "type",
    "queue",
    "assignee",
    "requester",
    "contact",
    "account",
    "tags",
    "category",
    "funnel_stage",
    "created_at",
    "updated_at",
    "closed_at",
    "due_at",
    "sla",
    "time_spent",
];

/// What a view shows when it names no columns.
pub const DEFAULT_COLUMNS: &[&str] = &["case_number", "subject", "status", "priority", "assignee", "updated_at"];
const MAX_COLUMNS: usize = 40;

/// Who sees a custom view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Its creator only.
    Personal,
    /// The members of one queue (and admins).
    Queue,
    /// Everyone in the organization.
    Organization,
}

impl Scope {
    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::Personal => "personal",
            Scope::Queue => "queue",
            Scope::Organization => "organization",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "personal" => Ok(Scope::Personal),
            "queue" => Ok(Scope::Queue),
            "organization" => Ok(Scope::Organization),
            _ => Err(format!("unknown scope {s:?}; expected personal, queue or organization")),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub id: String,
    pub org_id: String,
    pub name: String,
    /// In the search syntax; checked when saved.
    pub query: String,
    pub columns: Vec<String>,
    pub ordering: Ordering,
    pub scope: Scope,
    /// With [`Scope::Queue`]: the queue whose members see it.
    pub queue_id: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl View {
    /// A new personal view with the default columns and order, to be filled by a [`ViewInput`].
    pub fn new(id: String, org_id: &str, created_by: &str, now: Timestamp) -> View {
        View {
            id,
            org_id: org_id.to_string(),
            name: String::new(),
            query: String::new(),
            columns: DEFAULT_COLUMNS.iter().map(|c| c.to_string()).collect(),
            ordering: Ordering::default(),
            scope: Scope::Personal,
            queue_id: None,
            created_by: created_by.to_string(),
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether a user sees this view: their own, their queues', the organization's; admins see
    /// every shared one.
    pub fn visible_to(&self, user_id: &str, queue_ids: &[String], admin: bool) -> bool {
        match self.scope {
            Scope::Personal => self.created_by == user_id,
            Scope::Queue => admin || self.queue_id.as_ref().is_some_and(|q| queue_ids.contains(q)),
            Scope::Organization => true,
        }
    }

    /// Who may change or delete it: its creator, or an admin for a shared view.
    pub fn editable_by(&self, user_id: &str, admin: bool) -> bool {
        self.created_by == user_id || (admin && self.scope != Scope::Personal)
    }
}

/// A view as a request gives it; `None` keeps the current value on an update.
#[derive(Debug, Clone, Default)]
pub struct ViewInput {
    pub name: Option<String>,
    pub query: Option<String>,
    pub columns: Option<Vec<String>>,
    pub ordering: Option<String>,
    pub scope: Option<String>,
    /// `Some(None)` clears it.
    pub queue_id: Option<Option<String>>,
}

pub(crate) fn column(c: &str) -> Result<String, String> {
    let c = c.trim();
    if COLUMNS.contains(&c) {
        return Ok(c.to_string());
    }
    match c.strip_prefix("cf.") {
        Some(key) if !key.is_empty() && key.len() <= 64 => Ok(c.to_string()),
        _ => Err(format!("unknown column {c:?}; expected one of {} or cf.<key>", COLUMNS.join(", "))),
    }
}

/// The columns as given, each checked (`columns[i]` names a mistake); at most [`MAX_COLUMNS`],
/// none twice.
pub(crate) fn check_columns(cols: &[String], errors: &mut Errors) -> Vec<String> {
    if cols.len() > MAX_COLUMNS {
        errors.add("columns", format!("at most {MAX_COLUMNS} columns"));
    }
    let mut out = Vec::new();
    for (i, c) in cols.iter().enumerate() {
        if let Some(c) = errors.take(&format!("columns[{i}]"), column(c)) {
            if out.contains(&c) {
                errors.add(format!("columns[{i}]"), "named twice");
            }
            out.push(c);
        }
    }
    out
}

impl ViewInput {
    /// Applies the input to `base` (a new view's defaults, or the stored view). The query's
    /// syntax is the caller's to check, with the parser and the caller's context.
    pub fn apply(self, mut base: View) -> Result<View, DomainError> {
        let mut errors = Errors::new();
        if let Some(n) = self.name {
            if let Some(n) = errors.take("name", text::required_line(&n, 100)) {
                base.name = n;
            }
        } else if base.name.is_empty() {
            errors.add("name", "a view needs a name");
        }
        if let Some(q) = self.query {
            base.query = q.trim().to_string();
        }
        if let Some(cols) = self.columns {
            base.columns = check_columns(&cols, &mut errors);
        }
        if let Some(o) = self.ordering
            && let Some(o) = errors.take("ordering", Ordering::parse(&o))
        {
            base.ordering = o;
        }
        if let Some(s) = self.scope
            && let Some(s) = errors.take("scope", Scope::parse(&s))
        {
            base.scope = s;
        }
        if let Some(q) = self.queue_id {
            base.queue_id = q;
        }
        match (base.scope, &base.queue_id) {
            (Scope::Queue, None) => errors.add("queue_id", "a queue view names its queue"),
            (Scope::Personal | Scope::Organization, Some(_)) => {
                errors.add("queue_id", "only a view with scope queue names a queue")
            }
            _ => {}
        }
        errors.finish()?;
        Ok(base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank() -> View {
        View::new("vw_1".into(), "org_1", "usr_a", Timestamp::UNIX_EPOCH)
    }

    fn fields(e: DomainError) -> Vec<String> {
        match e {
            DomainError::Validation(f) => f.into_iter().map(|f| f.field).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn inputs_fill_a_view_and_name_each_mistake() {
        let v = ViewInput {
            name: Some(" VIP backlog ".into()),
            query: Some(" tag:vip ".into()),
            columns: Some(vec!["subject".into(), "cf.order_id".into()]),
            ordering: Some("-priority".into()),
            ..Default::default()
        }
        .apply(blank())
        .expect("valid");
        assert_eq!((v.name.as_str(), v.query.as_str(), v.ordering), ("VIP backlog", "tag:vip", Ordering::PriorityDesc));
        assert_eq!(v.columns, ["subject", "cf.order_id"]);

        let e = ViewInput {
            columns: Some(vec!["subject".into(), "colour".into(), "subject".into()]),
            ordering: Some("name".into()),
            scope: Some("team".into()),
            ..Default::default()
        }
        .apply(blank())
        .expect_err("invalid");
        assert_eq!(fields(e), ["name", "columns[1]", "columns[2]", "ordering", "scope"]);
        let e = ViewInput { name: Some("Q".into()), scope: Some("queue".into()), ..Default::default() }.apply(blank());
        assert_eq!(fields(e.expect_err("no queue")), ["queue_id"]);
        let e = ViewInput { name: Some("Q".into()), queue_id: Some(Some("q_1".into())), ..Default::default() }
            .apply(blank());
        assert_eq!(fields(e.expect_err("queue on a personal view")), ["queue_id"]);
    }

    #[test]
    fn visibility_follows_the_scope() {
        let mine = View { scope: Scope::Personal, ..blank() };
        assert!(mine.visible_to("usr_a", &[], false));
        assert!(!mine.visible_to("usr_b", &[], true), "personal views are personal, also for admins");
        assert!(mine.editable_by("usr_a", false) && !mine.editable_by("usr_b", true));
        let queue = View { scope: Scope::Queue, queue_id: Some("q_1".into()), ..blank() };
        assert!(queue.visible_to("usr_b", &["q_1".into()], false));
        assert!(!queue.visible_to("usr_b", &["q_2".into()], false));
        assert!(queue.visible_to("usr_b", &[], true));
        assert!(queue.editable_by("usr_b", true) && !queue.editable_by("usr_b", false));
        let org = View { scope: Scope::Organization, ..blank() };
        assert!(org.visible_to("usr_z", &[], false));
    }

    #[test]
    fn predefined_views_have_unique_ids() {
        let mut ids: Vec<&str> = PREDEFINED.iter().map(|p| p.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), PREDEFINED.len());
        assert_eq!(predefined("my-cases").map(|p| p.name), Some("My cases"));
        assert!(predefined("vw_x").is_none());
        let tz = jiff::tz::TimeZone::UTC;
        let ctx = crate::query::QueryContext { me: "usr_a", now: Timestamp::UNIX_EPOCH, tz: &tz };
        for p in PREDEFINED {
            assert!(crate::query::parse(p.query, &ctx).is_ok(), "{}", p.id);
        }
    }
}
