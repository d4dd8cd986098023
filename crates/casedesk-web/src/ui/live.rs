//! Live pages over server-sent events: the case list and the case page hear of changes as they
//! are committed, and the case page shows who else views it or types a reply (collision
//! detection).
//!
//! A stream is a [`casedesk_core::live::Watch`] of the organization's change feed, which every
//! instance reads from the database, so a change made through any instance reaches every open
//! page. The stream says only *that* something changed (`event: changed`); the page then asks for
//! its fresh HTML the ordinary way, so what it shows is always what the server renders. The case
//! stream also keeps its viewer present on the case (a heartbeat in the database) and sends the
//! others' presence (`event: presence`, an HTML fragment) whenever it differs from the last.
//! Streams end when the server shuts down; the browser reconnects, to whichever instance.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use casedesk_core::live::{Heard, Watch};
use casedesk_core::{Actor, App};
use casedesk_domain::presence::Other;
use serde::Deserialize;

use super::display::Names;
use super::error::UiError;
use super::session::{Posted, Viewer};
use crate::AppState;

/// How long a burst of changes (a bulk action) may take to settle into one refresh.
const SETTLE: Duration = Duration::from_millis(300);
/// How often an idle stream sends a comment: keeps proxies from closing it, and lets the server
/// notice soon that a page went away (its viewer then leaves the case).
const KEEP_ALIVE: Duration = Duration::from_secs(5);
/// How often a case stream looks at who else is on the case.
const PRESENCE_POLL: Duration = Duration::from_secs(2);

#[derive(Deserialize)]
pub struct LiveQuery {
    /// The feed cursor the page was rendered at: what changed since is heard first.
    after: Option<String>,
}

/// The others on a case as the page shows them.
#[derive(Template)]
#[template(path = "presence.html")]
pub struct PresenceLine {
    pub people: Vec<Person>,
}

pub struct Person {
    pub name: String,
    pub initial: String,
    pub typing: bool,
}

impl PresenceLine {
    pub fn new(others: &[Other], names: &Names) -> Self {
        let people = others
            .iter()
            .map(|o| {
                let name = names.user(Some(&o.user_id));
                let initial = name.chars().next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
                Person { name, initial, typing: o.typing }
            })
            .collect();
        PresenceLine { people }
    }

    /// The fragment on one line (an SSE `data:` field is a line).
    fn line(&self) -> String {
        self.render().map(|h| h.replace('\n', "")).unwrap_or_default()
    }
}

fn sse<S>(stream: S) -> Response
where
    S: futures_util::Stream<Item = Result<Event, Infallible>> + Send + 'static,
{
    let mut resp = Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)).into_response();
    // Proxies that buffer responses would hold the events back.
    resp.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

/// A watch and the change it heard but has not told yet: a burst of changes (a bulk action)
/// settles into one event.
struct Changes {
    watch: Watch,
    /// When to tell of what was heard.
    due: Option<tokio::time::Instant>,
}

impl Changes {
    fn new(watch: Watch) -> Self {
        Changes { watch, due: None }
    }

    /// The next `changed` event for changes `wanted` accepts (a loss counts: anything may have
    /// changed); `None` when the server shuts down. Safe to cancel: what was heard stays heard.
    async fn next(&mut self, wanted: impl Fn(&str) -> bool) -> Option<Event> {
        loop {
            let due = self.due;
            tokio::select! {
                h = self.watch.next() => match h {
                    Heard::Closed => return None,
                    Heard::Change(c) if !wanted(&c.case_id) => {}
                    Heard::Missed | Heard::Change(_) => {
                        self.due.get_or_insert_with(|| tokio::time::Instant::now() + SETTLE);
                    }
                },
                () = tokio::time::sleep_until(due.unwrap_or_else(tokio::time::Instant::now)), if due.is_some() => {
                    self.due = None;
                    return Some(Event::default().event("changed").data("changed"));
                }
            }
        }
    }
}

/// `GET /cases/live`: an event whenever a case of the organization changes.
pub async fn list_stream(
    State(s): State<AppState>,
    viewer: Viewer,
    Query(q): Query<LiveQuery>,
) -> Result<Response, UiError> {
    let watch = s.app.watch(&viewer.who.actor, q.after.as_deref()).await?;
    let stream =
        futures_util::stream::unfold(
            Changes::new(watch),
            |mut c| async move { c.next(|_| true).await.map(|e| (Ok(e), c)) },
        );
    Ok(sse(stream))
}

/// A case stream's state: its watch, its viewer's presence and what it last said of the others.
struct CaseStream {
    app: App,
    actor: Actor,
    case_id: String,
    changes: Changes,
    names: Names,
    shown: String,
    tick: tokio::time::Interval,
    beat: tokio::time::Instant,
}

impl Drop for CaseStream {
    fn drop(&mut self) {
        // The page closed: its viewer leaves the case now rather than when the heartbeat runs out.
        let (app, actor, case_id) = (self.app.clone(), self.actor.clone(), self.case_id.clone());
        tokio::spawn(async move {
            if let Err(e) = app.leave_case(&actor, &case_id).await {
                tracing::debug!(error = ?e, "leaving a case's presence failed; it runs out by itself");
            }
        });
    }
}

impl CaseStream {
    /// Renews the viewer's presence when due and answers the others' presence if it changed.
    async fn presence(&mut self) -> Option<Event> {
        if self.beat.elapsed() >= casedesk_domain::presence::HEARTBEAT.unsigned_abs() {
            self.beat = tokio::time::Instant::now();
            if let Err(e) = self.app.mark_presence(&self.actor, &self.case_id, false).await {
                tracing::debug!(error = ?e, "renewing presence failed; trying again on the next beat");
            }
        }
        let others = self.app.case_others(&self.actor, &self.case_id).await.ok()?;
        if others.iter().any(|o| !self.names.users.contains_key(&o.user_id))
            && let Ok(dir) = super::cases::directory(&self.app, &self.actor).await
        {
            self.names = dir.names;
        }
        let line = PresenceLine::new(&others, &self.names).line();
        if line == self.shown {
            return None;
        }
        self.shown = line.clone();
        Some(Event::default().event("presence").data(line))
    }

    async fn next(&mut self) -> Option<Event> {
        loop {
            let case_id = self.case_id.clone();
            tokio::select! {
                e = self.changes.next(|id| id == case_id) => return e,
                _ = self.tick.tick() => {
                    if let Some(e) = self.presence().await {
                        return Some(e);
                    }
                }
            }
        }
    }
}

/// `GET /cases/{id}/live`: an event whenever the case changes, and who else is on it.
pub async fn case_stream(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<LiveQuery>,
) -> Result<Response, UiError> {
    let actor = viewer.who.actor.clone();
    let case = s.app.get_case(&actor, &id).await?;
    let watch = s.app.watch(&actor, q.after.as_deref()).await?;
    s.app.mark_presence(&actor, &case.id, false).await?;
    let names = super::cases::directory(&s.app, &actor).await?.names;
    let mut tick = tokio::time::interval(PRESENCE_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = CaseStream {
        app: s.app.clone(),
        actor,
        case_id: case.id,
        changes: Changes::new(watch),
        names,
        shown: String::new(),
        tick,
        beat: tokio::time::Instant::now(),
    };
    let stream = futures_util::stream::unfold(state, |mut st| async move { st.next().await.map(|e| (Ok(e), st)) });
    Ok(sse(stream))
}

/// `POST /cases/{id}/typing`: the viewer is typing a reply (sent at most every few seconds).
pub async fn typing(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    s.app.mark_presence(&p.viewer.who.actor, &id, true).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
