//! Live pages: what changed, and who else is on a case, for the web UI's open pages.
//!
//! **Changes.** Each instance runs one reader of the change feed ([`App::poll_live`], every
//! [`crate::jobs::JobIntervals::live`] among the background jobs). For every organization that
//! someone on this instance is watching, it reads the organization's feed (`case_events`, exactly
//! what `/api/v1/events` serves) after where it last stopped, and hands each event to this
//! instance's watchers of that organization through one broadcast channel. A change made through
//! any instance — a request, a rule, a bulk job — is in the database's feed, so every instance's
//! pages hear of it; no instance tells another anything in memory. A page starts watching at
//! the feed cursor it was rendered at ([`App::watch`] reads what came in between), so a change
//! made while the page was on its way to the browser is not missed.
//!
//! **Presence.** Who views a case or types a reply on it is a row per user and case with a short
//! expiry ([`casedesk_domain::presence`]), renewed by the open page; every instance reads the
//! same rows.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use casedesk_domain::policy::Action;
use casedesk_domain::presence::{self, Other};
use casedesk_store::StoreError;
use tokio::sync::{broadcast, watch};

use crate::{Actor, App, Result};

/// Events the reader hands on per organization and pass before it looks at the others again.
const READ_BATCH: u32 = 200;
/// Pages of feed a new watcher reads to catch up with its page; beyond that it is told it
/// missed something.
const CATCH_UP_PAGES: usize = 5;

/// One event of an organization's feed, as a live page needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub org_id: String,
    pub case_id: String,
    pub kind: String,
}

/// This instance's live feed: who watches which organization, where the reader is in each
/// organization's feed, and the channel that carries the changes. Cheap to clone.
#[derive(Clone)]
pub struct LiveFeed {
    inner: Arc<Inner>,
}

struct Inner {
    sender: broadcast::Sender<Arc<Change>>,
    /// Per watched organization: how many watchers, and the cursor after which the feed is
    /// still to be read (`None`: from its start, while it had no events).
    watched: Mutex<HashMap<String, (usize, Option<String>)>>,
    closed: watch::Sender<bool>,
}

impl Default for LiveFeed {
    fn default() -> Self {
        let (sender, _) = broadcast::channel(1024);
        let (closed, _) = watch::channel(false);
        LiveFeed { inner: Arc::new(Inner { sender, watched: Mutex::default(), closed }) }
    }
}

impl LiveFeed {
    /// Ends every watch (the server is shutting down: open streams must end for it to finish).
    pub fn close(&self) {
        self.inner.closed.send_replace(true);
    }

    fn watched(&self) -> std::sync::MutexGuard<'_, HashMap<String, (usize, Option<String>)>> {
        // A panic while holding the lock cannot leave the map half-changed: take it as it is.
        self.inner.watched.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many pages on this instance watch the organization.
    pub fn watchers(&self, org_id: &str) -> usize {
        self.watched().get(org_id).map_or(0, |(n, _)| *n)
    }
}

/// What a watch heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    Change(Arc<Change>),
    /// It fell behind and lost changes: anything may have changed.
    Missed,
    /// The server is shutting down.
    Closed,
}

/// A page's watch of its organization's changes; it ends when dropped.
pub struct Watch {
    feed: LiveFeed,
    org_id: String,
    rx: broadcast::Receiver<Arc<Change>>,
    backlog: VecDeque<Heard>,
    closed: watch::Receiver<bool>,
}

impl Watch {
    /// The next change of the organization (or word that some were missed, or that the server
    /// is shutting down).
    pub async fn next(&mut self) -> Heard {
        if let Some(h) = self.backlog.pop_front() {
            return h;
        }
        loop {
            tokio::select! {
                _ = self.closed.wait_for(|c| *c) => return Heard::Closed,
                r = self.rx.recv() => match r {
                    Ok(c) if c.org_id == self.org_id => return Heard::Change(c),
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => return Heard::Missed,
                    Err(broadcast::error::RecvError::Closed) => return Heard::Closed,
                },
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let mut watched = self.feed.watched();
        if let Some((n, _)) = watched.get_mut(&self.org_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                watched.remove(&self.org_id);
            }
        }
    }
}

impl App {
    /// The feed cursor a page is rendered at: its watch starts there.
    pub async fn live_cursor(&self, actor: &Actor) -> Result<Option<String>> {
        actor.require(Action::ReadCases, "read cases")?;
        Ok(self.store.feed_head(&actor.org_id).await?)
    }

    /// Starts watching the caller's organization from `after`, the cursor of the page (what
    /// happened since is heard first); without one, from now.
    pub async fn watch(&self, actor: &Actor, after: Option<&str>) -> Result<Watch> {
        actor.require(Action::ReadCases, "read cases")?;
        let org = actor.org_id.clone();
        let known = self.live.watched().get(&org).is_some();
        // The first watcher of an organization starts the reader at the feed's head.
        let head = if known { None } else { Some(self.store.feed_head(&org).await?) };
        {
            let mut watched = self.live.watched();
            let entry = watched.entry(org.clone()).or_insert_with(|| (0, head.flatten()));
            entry.0 += 1;
        }
        // Subscribed before catching up, so that nothing falls between the two.
        let rx = self.live.inner.sender.subscribe();
        let closed = self.live.inner.closed.subscribe();
        let watch = Watch { feed: self.live.clone(), org_id: org.clone(), rx, backlog: VecDeque::new(), closed };
        let Some(after) = after else { return Ok(watch) };
        let mut watch = watch;
        let mut cursor = after.to_string();
        for page in 0.. {
            let read = match self.store.event_feed(&org, Some(&cursor), READ_BATCH).await {
                Ok(p) => p,
                // A cursor from elsewhere: start from now, and say something may have changed.
                Err(StoreError::InvalidCursor) => {
                    watch.backlog.push_back(Heard::Missed);
                    break;
                }
                Err(e) => return Err(e.into()),
            };
            watch.backlog.extend(
                read.items
                    .into_iter()
                    .map(|e| Heard::Change(Arc::new(Change { org_id: org.clone(), case_id: e.case_id, kind: e.kind }))),
            );
            if !read.has_more {
                break;
            }
            if page + 1 >= CATCH_UP_PAGES {
                watch.backlog.push_back(Heard::Missed);
                break;
            }
            match read.cursor {
                Some(c) => cursor = c,
                None => break,
            }
        }
        Ok(watch)
    }

    /// Reads every watched organization's feed after where the reader stopped and hands the
    /// events to the watchers; returns how many it handed on.
    pub async fn poll_live(&self) -> Result<usize> {
        let watched: Vec<(String, Option<String>)> =
            self.live.watched().iter().map(|(org, (_, cursor))| (org.clone(), cursor.clone())).collect();
        let mut sent = 0;
        for (org, cursor) in watched {
            let page = self.store.event_feed(&org, cursor.as_deref(), READ_BATCH).await?;
            if page.items.is_empty() {
                continue;
            }
            for e in page.items {
                sent += 1;
                // Nobody listening is no error: the page went away meanwhile.
                let _ = self.live.inner.sender.send(Arc::new(Change {
                    org_id: org.clone(),
                    case_id: e.case_id,
                    kind: e.kind,
                }));
            }
            if let Some((_, at)) = self.live.watched().get_mut(&org) {
                *at = page.cursor;
            }
        }
        Ok(sent)
    }

    /// Runs the live feed's reader until the task is dropped or aborted.
    pub(crate) async fn live_worker(&self, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.poll_live().await {
                tracing::warn!(error = %e, "reading the change feed for live pages failed; retrying on the next tick");
            }
        }
    }

    // ---- presence ---------------------------------------------------------------------------

    /// The caller has the case open (a page's heartbeat), or types a reply on it.
    pub async fn mark_presence(&self, actor: &Actor, case_id: &str, typing: bool) -> Result<()> {
        actor.require(Action::ReadCases, "read cases")?;
        let case = self.store.get_case(&actor.org_id, case_id).await?;
        let now = self.clock.now();
        let viewing = now.checked_add(presence::VIEWING_FOR).unwrap_or(now);
        let typing = typing.then(|| now.checked_add(presence::TYPING_FOR).unwrap_or(now));
        Ok(self.store.touch_presence(&actor.org_id, &case.id, &actor.user_id, viewing, typing, now).await?)
    }

    /// The caller closed the case's page.
    pub async fn leave_case(&self, actor: &Actor, case_id: &str) -> Result<()> {
        Ok(self.store.leave_presence(&actor.org_id, case_id, &actor.user_id).await?)
    }

    /// Who else views the case or types a reply on it now.
    pub async fn case_others(&self, actor: &Actor, case_id: &str) -> Result<Vec<Other>> {
        actor.require(Action::ReadCases, "read cases")?;
        let rows = self.store.case_presence(&actor.org_id, case_id, self.clock.now()).await?;
        Ok(presence::others(&rows, &actor.user_id, self.clock.now()))
    }
}
