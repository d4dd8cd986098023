//! What `/metrics` reports beyond HTTP requests: counters of this instance's background work
//! (kept in memory, like every Prometheus counter: each instance is scraped on its own and the
//! sum is taken in Prometheus), and gauges read from the database, shared by all instances.

use std::sync::atomic::{AtomicU64, Ordering};

use casedesk_store::OperationalCounts;

use crate::{App, Result};

/// Counters of this instance's background work since it started.
#[derive(Debug, Default)]
pub struct Counters {
    /// Cases the SLA sweep flagged with a new warning or breach.
    pub sla_alarms: AtomicU64,
    /// Webhook delivery attempts that were answered with a 2xx.
    pub webhook_delivered: AtomicU64,
    /// Attempts that failed and will be tried again.
    pub webhook_retried: AtomicU64,
    /// Attempts that failed for the last time (dead-lettered).
    pub webhook_dead_lettered: AtomicU64,
    /// Outgoing messages the SMTP server accepted.
    pub email_sent: AtomicU64,
    /// Sending attempts that failed and will be tried again.
    pub email_retried: AtomicU64,
    /// Sending attempts that failed for good (refused, or failing for a day).
    pub email_failed: AtomicU64,
    /// Polls of IMAP mailboxes that finished.
    pub imap_polled: AtomicU64,
    /// Polls of IMAP mailboxes that failed (recorded on the mailbox, tried again later).
    pub imap_failed: AtomicU64,
    /// Messages taken in from IMAP mailboxes.
    pub imap_messages: AtomicU64,
}

/// A snapshot of [`Counters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CounterValues {
    pub sla_alarms: u64,
    pub webhook_delivered: u64,
    pub webhook_retried: u64,
    pub webhook_dead_lettered: u64,
    pub email_sent: u64,
    pub email_retried: u64,
    pub email_failed: u64,
    pub imap_polled: u64,
    pub imap_failed: u64,
    pub imap_messages: u64,
}

impl Counters {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn values(&self) -> CounterValues {
        CounterValues {
            sla_alarms: self.sla_alarms.load(Ordering::Relaxed),
            webhook_delivered: self.webhook_delivered.load(Ordering::Relaxed),
            webhook_retried: self.webhook_retried.load(Ordering::Relaxed),
            webhook_dead_lettered: self.webhook_dead_lettered.load(Ordering::Relaxed),
            email_sent: self.email_sent.load(Ordering::Relaxed),
            email_retried: self.email_retried.load(Ordering::Relaxed),
            email_failed: self.email_failed.load(Ordering::Relaxed),
            imap_polled: self.imap_polled.load(Ordering::Relaxed),
            imap_failed: self.imap_failed.load(Ordering::Relaxed),
            imap_messages: self.imap_messages.load(Ordering::Relaxed),
        }
    }
}

impl App {
    /// The database's side of `/metrics`: open cases per queue, breached SLAs, bulk jobs,
    /// webhook deliveries and mail by state. Each figure is a bounded read (maintained totals or a
    /// partial index), so a scrape costs the same at a million cases as at a hundred.
    pub async fn operational_counts(&self) -> Result<OperationalCounts> {
        Ok(self.store.operational_counts().await?)
    }
}
