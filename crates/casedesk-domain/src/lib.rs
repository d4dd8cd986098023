//! casedesk-domain: the rules of a helpdesk, as pure functions of their inputs.
//!
//! Nothing in this crate does IO or reads the clock: time is always an argument. The store, the
//! use cases and the HTTP layer build on these types; a rule lives here exactly once.
//!
//! Layout:
//! - [`ids`]: opaque, type-prefixed identifiers (`case_…`, `usr_…`).
//! - [`error`]: [`DomainError`] and per-field validation errors.
//! - [`activity`]: calls, meetings and tasks logged on a case.
//! - [`automation`]: automation rules (triggers, conditions, actions), macros, and the loop guard.
//! - [`macros`]: saved replies and actions an agent applies by hand.
//! - [`notification`]: in-app notifications for agents.
//! - [`template`]: the placeholders of rule and macro messages, filled with escaping.
//! - [`badge`]: what a list shows of a case's SLA ("due in 35 min").
//! - [`calendar`]: business calendars (open hours, holidays, time zone) and business-time arithmetic.
//! - [`case`]: the case model, its enums (status, priority, type, channel) and how a case changes.
//! - [`case_sla`]: a case's SLA clocks and what moves them.
//! - [`export`]: case lists as spreadsheet rows: the columns, their headers and typed cells.
//! - [`file`]: files on a case: names, and the declared type checked against the content.
//! - [`imap`]: a mailbox's IMAP settings, and which messages a poll fetches, its cursor and backoff.
//! - [`people`]: users, contacts and accounts: their fields and validation.
//! - [`profile`]: case categories and the custom fields they open.
//! - [`policy`]: who may do what.
//! - [`queue`]: case queues and their assignment methods.
//! - [`routing`]: which queue member gets a case.
//! - [`report`]: what cases contribute to reports, and per-day totals made into reports.
//! - [`csat`]: customer satisfaction surveys: scales, answers and their window.
//! - [`links`]: links between cases and the rules of merging.
//! - [`milestone`]: milestones of a case, their due times and states.
//! - [`list`]: the validated filter and ordering of a case list.
//! - [`presence`]: who else views a case or types a reply on it, and how long that lasts.
//! - [`query`]: the search syntax (`status:open priority>=high "paper jam"`).
//! - [`query_edit`]: a query as written, edited by the case list's filter controls.
//! - [`timeline`]: timeline events and comments.
//! - [`sla`]: SLA policies (targets per priority) and the clocks that track them.
//! - [`search`]: the words full-text search indexes and matches.
//! - [`signing_key`]: an organization's keys for visitor tokens (HS256 sealed at rest, Ed25519 public).
//! - [`jwt`]: verifying a visitor token against the key its `kid` selects.
//! - [`session`]: web sessions' lifetime and idle timeout, sign-in throttling.
//! - [`workflow`]: custom statuses and funnel stages.
//! - [`view`]: predefined and saved views (a query, columns and an order) and who sees them.
//! - [`webhook`]: webhook subscriptions, deliveries, their signature and retry schedule.
//! - [`text`]: small validators shared by the others (lengths, email).
//! - [`time`]: time tracking: durations, time types, entries and timers.

#![forbid(unsafe_code)]

pub mod activity;
pub mod ai;
pub mod automation;
pub mod badge;
pub mod bulk;
pub mod calendar;
pub mod case;
pub mod case_sla;
pub mod count;
pub mod csat;
pub mod email;
pub mod error;
pub mod export;
pub mod file;
pub mod ids;
pub mod imap;
pub mod jwt;
pub mod links;
pub mod list;
pub mod macros;
pub mod mail;
pub mod messaging;
pub mod milestone;
pub mod notification;
pub mod people;
pub mod policy;
pub mod portal;
pub mod presence;
pub mod profile;
pub mod query;
pub mod query_edit;
pub mod queue;
pub mod report;
pub mod routing;
pub mod search;
pub mod session;
pub mod signing_key;
pub mod sla;
pub mod template;
pub mod text;
pub mod time;
pub mod timeline;
pub mod view;
pub mod webhook;
pub mod workflow;

pub use error::{DomainError, Errors, FieldError};
