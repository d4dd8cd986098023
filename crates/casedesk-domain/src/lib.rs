//! casedesk-domain: the rules of a helpdesk, as pure functions of their inputs.
//!
//! Nothing in this crate does IO or reads the clock: time is always an argument. The store, the
//! use cases and the HTTP layer build on these types; a rule lives here exactly once.
//!
//! Layout:
//! - [`ids`]: opaque, type-prefixed identifiers (`case_…`, `usr_…`).
//! - [`error`]: [`DomainError`] and per-field validation errors.
//! - [`case`]: the case model, its enums (status, priority, type, channel) and how a case changes.
//! - [`people`]: users, contacts and accounts: their fields and validation.
//! - [`policy`]: who may do what.
//! - [`queue`]: case queues and their assignment methods.
//! - [`list`]: the validated filter and ordering of a case list.
//! - [`timeline`]: timeline events and comments.
//! - [`search`]: the words full-text search indexes and matches.
//! - [`text`]: small validators shared by the others (lengths, email).

#![forbid(unsafe_code)]

pub mod case;
pub mod error;
pub mod ids;
pub mod list;
pub mod people;
pub mod policy;
pub mod queue;
pub mod search;
pub mod text;
pub mod timeline;

pub use error::{DomainError, Errors, FieldError};
