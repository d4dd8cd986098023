//! The API suite: the real server on a real socket, driven over HTTP, on SQLite by default and
//! on PostgreSQL when `CASEDESK_TEST_BACKEND=postgres` (see `helpers`).
//!
//! One test binary (modules below) so the application is linked once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod activities;
mod ai;
mod ai_provider;
mod automation;
mod bulk;
mod cases;
mod conversations;
mod csat;
mod directory;
mod email;
mod errors;
mod events;
mod exports;
mod files;
mod imap;
mod imap_server;
mod intake;
mod links;
mod list;
mod loopback;
mod metrics;
mod milestones;
mod openapi;
mod portal;
mod reports;
mod routing;
mod search;
mod server;
mod sla;
mod smtp_sink;
mod tenancy;
mod time;
mod ui;
mod ui_admin;
mod ui_assistant;
mod ui_reports;
mod ui_requester;
mod views;
mod visitors;
mod webhooks;
mod workflow;
