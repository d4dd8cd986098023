//! Reading queries in the search syntax as the caller means them: `me` is the caller, relative
//! times count from now, dates are in the organization's time zone (looked up once).

use casedesk_domain::query::{self, Query, QueryContext, QueryError};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::{Actor, App, AppError, Result};

/// The context an actor's queries are read in.
pub(crate) struct QueryScope {
    me: String,
    now: Timestamp,
    tz: TimeZone,
}

impl QueryScope {
    pub(crate) fn parse(&self, q: &str) -> Result<Query, QueryError> {
        query::parse(q, &QueryContext { me: &self.me, now: self.now, tz: &self.tz })
    }

    /// [`parse`](Self::parse), a query that cannot be read being a 422 on `field` saying where.
    pub(crate) fn parse_field(&self, q: &str, field: &str) -> Result<Query> {
        self.parse(q).map_err(|e| AppError::field(field, e.to_string()))
    }

    /// The organization's time zone the queries are read in.
    pub(crate) fn time_zone(&self) -> &TimeZone {
        &self.tz
    }
}

impl App {
    pub(crate) async fn query_scope(&self, actor: &Actor) -> Result<QueryScope> {
        Ok(QueryScope {
            me: actor.user_id.clone(),
            now: self.clock.now(),
            tz: self.org_time_zone(&actor.org_id).await?,
        })
    }
}
