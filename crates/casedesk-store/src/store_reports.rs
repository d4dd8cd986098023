//! [`Store`] methods for reports: the per-day totals.

use std::collections::BTreeMap;

use casedesk_domain::report::DayRow;

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{Result, Store};

impl Store {
    /// The per-day totals of up to three series for one grouping, days `from..=to`.
    pub async fn report_days(
        &self,
        org_id: &str,
        series: &[&str],
        dim: &str,
        from: i32,
        to: i32,
    ) -> Result<Vec<DayRow>> {
        dispatch!(self, read, report_days(org_id, series, dim, from, to))
    }

    /// Per key: cases created and resolved before day `before`.
    pub async fn report_totals_before(
        &self,
        org_id: &str,
        dim: &str,
        before: i32,
    ) -> Result<BTreeMap<String, (i64, i64)>> {
        dispatch!(self, read, report_totals_before(org_id, dim, before))
    }
}
