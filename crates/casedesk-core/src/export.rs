//! Exports of case lists to `.xlsx` and CSV (seed 003): a query, a view, or both, with the
//! view's columns or chosen ones.
//!
//! [`App::prepare_export`] checks the request (every mistake is a 422 naming its field) before
//! anything is written, so an HTTP export fails cleanly or not at all. The cases are then read
//! [`BATCH`] at a time along the list's keyset order, with the names they refer to and their
//! time spent read per batch, so memory stays flat whatever the number of rows. CSV goes out a
//! batch at a time; an `.xlsx` is a zip that needs the whole sheet, so its rows go through
//! rust_xlsxwriter's constant-memory mode (rows spill to a temporary file) into a file the
//! caller then sends.

use std::collections::HashMap;
use std::io::{Seek, Write};

use casedesk_domain::FieldError;
use casedesk_domain::export::{self, Cell, Column, Row};
use casedesk_domain::list::{CaseFilter, ListRequest, Ordering};
use casedesk_domain::policy::Action;
use casedesk_store::CaseListItem;
use jiff::tz::TimeZone;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use crate::views::AnyView;
use crate::{Actor, App, AppError, Result};

/// Cases read per store round trip.
pub const BATCH: u32 = 1000;
/// Rows of data an `.xlsx` sheet holds (1,048,576 rows less the header).
pub const XLSX_MAX_ROWS: u64 = 1_048_575;

/// What to export; every part is optional.
#[derive(Debug, Clone, Default)]
pub struct ExportRequest {
    /// A query in the search syntax; with a view, it narrows the view's cases.
    pub query: Option<String>,
    /// A predefined or saved view: its query, columns and order.
    pub view: Option<String>,
    /// Instead of the view's (or the default) columns.
    pub columns: Option<Vec<String>>,
    /// Instead of the view's (or the default) order.
    pub ordering: Option<Ordering>,
}

/// An export checked and ready to run for one caller.
#[derive(Debug, Clone)]
pub struct Export {
    org_id: String,
    filter: CaseFilter,
    pub ordering: Ordering,
    pub columns: Vec<Column>,
    tz: TimeZone,
}

/// An anonymous temporary file for an export to be built in: the system deletes it when the
/// last handle closes, also if the process dies.
pub fn temp_file() -> std::io::Result<std::fs::File> {
    tempfile::tempfile()
}

/// How an `.xlsx` export fails while it is written.
fn xlsx_error(e: XlsxError) -> AppError {
    AppError::Internal(format!("writing the spreadsheet: {e}"))
}

fn io_error(e: std::io::Error) -> AppError {
    AppError::Internal(format!("writing the export: {e}"))
}

impl App {
    /// Checks an export request for the caller: the view must be one they see (else a 422 on
    /// `view`), the query must read (422 on `q`), the columns must exist (422 on `columns[i]`).
    pub async fn prepare_export(&self, actor: &Actor, req: ExportRequest) -> Result<Export> {
        actor.require(Action::ReadCases, "export cases")?;
        let scope = self.query_scope(actor).await?;
        let mut errors: Vec<FieldError> = Vec::new();
        let mut filter = CaseFilter::default();
        let (mut ordering, mut columns) = (Ordering::default(), None);
        if let Some(id) = &req.view {
            match self.get_view(actor, id).await {
                Ok(v) => {
                    match scope.parse(v.query()) {
                        Ok(parsed) => _ = filter.add_query(parsed),
                        Err(e) => {
                            errors.push(FieldError::new("view", format!("the view's query no longer reads: {e}")))
                        }
                    }
                    ordering = v.ordering();
                    // A predefined view shows the default columns, which `export::columns(None)` gives.
                    if let AnyView::Saved(v) = v {
                        columns = Some(v.columns);
                    }
                }
                Err(AppError::NotFound) => errors.push(FieldError::new("view", format!("no such view: {id}"))),
                Err(e) => return Err(e),
            }
        }
        if let Some(q) = &req.query {
            match scope.parse(q) {
                Ok(parsed) => _ = filter.add_query(parsed),
                Err(e) => errors.push(FieldError::new("q", e.to_string())),
            }
        }
        let columns = match export::columns(req.columns.as_deref().or(columns.as_deref())) {
            Ok(c) => c,
            Err(casedesk_domain::DomainError::Validation(f)) => {
                errors.extend(f);
                Vec::new()
            }
            Err(e) => return Err(e.into()),
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(Export {
            org_id: actor.org_id.clone(),
            filter,
            ordering: req.ordering.unwrap_or(ordering),
            columns,
            tz: scope.time_zone().clone(),
        })
    }

    /// How many cases the export holds (for a progress bar).
    pub async fn count_export(&self, e: &Export) -> Result<i64> {
        Ok(self.store.count_cases(&e.org_id, &e.filter).await?)
    }

    /// One batch of rows after `cursor`, and the cursor of the next (`None` after the last).
    async fn export_batch(&self, e: &Export, cursor: Option<String>) -> Result<(Vec<Vec<Cell>>, Option<String>)> {
        let req = ListRequest { filter: e.filter.clone(), ordering: e.ordering, limit: BATCH, cursor };
        let page = self.store.list_cases(&e.org_id, &req).await?;
        let wants = |c: &Column| e.columns.contains(c);
        let mut ids: Vec<String> = Vec::new();
        for item in &page.items {
            let c = &item.case;
            let refs = [
                (Column::Queue, c.queue_id.as_ref()),
                (Column::Assignee, c.owner_id.as_ref()),
                (Column::Requester, Some(&c.requester_id)),
                (Column::Category, c.category_id.as_ref()),
            ];
            ids.extend(refs.into_iter().filter(|(col, _)| wants(col)).filter_map(|(_, id)| id.cloned()));
        }
        // A batch names about a thousand mostly distinct records: dedupe in one sort.
        ids.sort_unstable();
        ids.dedup();
        let names: HashMap<String, String> = self.store.names_of(&e.org_id, &ids).await?.into_iter().collect();
        let spent: HashMap<String, i64> = if wants(&Column::TimeSpent) {
            let case_ids: Vec<String> = page.items.iter().map(|i| i.case.id.clone()).collect();
            self.store.time_spent_of(&e.org_id, &case_ids).await?.into_iter().collect()
        } else {
            HashMap::new()
        };
        let rows = page.items.iter().map(|item| row_cells(e, item, &names, &spent)).collect();
        Ok((rows, page.next_cursor))
    }

    /// Writes the export as CSV (a header row, then a record per case), handing it to `send` a
    /// batch at a time; `progress` hears the rows written so far. Returns the number of rows.
    pub async fn write_csv<S, F>(&self, e: &Export, mut send: S, progress: &(dyn Fn(u64) + Send + Sync)) -> Result<u64>
    where
        S: FnMut(Vec<u8>) -> F + Send,
        F: Future<Output = std::io::Result<()>> + Send,
    {
        let header: Vec<String> = e.columns.iter().map(Column::header).collect();
        send(csv_records(std::iter::once(header))?).await.map_err(io_error)?;
        let (mut cursor, mut rows) = (None, 0u64);
        loop {
            let (batch, next) = self.export_batch(e, cursor).await?;
            rows += batch.len() as u64;
            send(csv_records(batch.iter().map(|r| r.iter().map(Cell::csv).collect()))?).await.map_err(io_error)?;
            progress(rows);
            match next {
                Some(c) => cursor = Some(c),
                None => return Ok(rows),
            }
        }
    }

    /// Writes the export as an `.xlsx` workbook into `out`: one sheet with a bold, frozen header
    /// row, an autofilter over the rows, sized columns and typed cells. Rows past
    /// [`XLSX_MAX_ROWS`] are a 422 on `q` (narrow the query or export CSV). Returns the number
    /// of rows.
    pub async fn write_xlsx<W>(&self, e: &Export, out: W, progress: &(dyn Fn(u64) + Send + Sync)) -> Result<u64>
    where
        W: Write + Seek + Send + 'static,
    {
        let mut book = Workbook::new();
        let mut sheet = XlsxSheet::new(&mut book, &e.columns).map_err(xlsx_error)?;
        let (mut cursor, mut rows) = (None, 0u64);
        loop {
            let (batch, next) = self.export_batch(e, cursor).await?;
            if rows + batch.len() as u64 > XLSX_MAX_ROWS {
                return Err(AppError::field(
                    "q",
                    format!(
                        "more than {XLSX_MAX_ROWS} cases do not fit in an .xlsx sheet; narrow the query or export CSV"
                    ),
                ));
            }
            sheet.write_rows(&mut book, &batch).map_err(xlsx_error)?;
            rows += batch.len() as u64;
            progress(rows);
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        sheet.finish(&mut book).map_err(xlsx_error)?;
        // Zipping the sheet reads it back from its temporary file: seconds of CPU for a big
        // export, kept off the threads that serve requests.
        tokio::task::spawn_blocking(move || book.save_to_writer(out))
            .await
            .map_err(|e| AppError::Internal(format!("writing the spreadsheet: {e}")))?
            .map_err(xlsx_error)?;
        Ok(rows)
    }
}

/// Records as CSV text (RFC 4180: fields with commas, quotes or line breaks are quoted).
pub(crate) fn csv_records(records: impl Iterator<Item = Vec<String>>) -> Result<Vec<u8>> {
    let csv_error = |e: String| AppError::Internal(format!("writing CSV: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in records {
        w.write_record(&r).map_err(|e| csv_error(e.to_string()))?;
    }
    w.into_inner().map_err(|e| csv_error(e.to_string()))
}

/// The cells of one case, names resolved (an id stands in for a name that is gone).
fn row_cells(
    e: &Export,
    item: &CaseListItem,
    names: &HashMap<String, String>,
    spent: &HashMap<String, i64>,
) -> Vec<Cell> {
    let c = &item.case;
    let name = |id: Option<&String>| id.and_then(|id| names.get(id)).map(String::as_str);
    let row = Row {
        case: c,
        queue: name(c.queue_id.as_ref()),
        assignee: name(c.owner_id.as_ref()),
        requester: name(Some(&c.requester_id)),
        contact: item.contact.as_ref().map(|s| s.name.as_str()),
        account: item.account.as_ref().map(|s| s.name.as_str()),
        category: name(c.category_id.as_ref()),
        custom_status: item.workflow.custom_status.as_ref().map(|(_, n)| n.as_str()),
        funnel_stage: item.workflow.funnel_stage.as_ref().map(|(_, n, _)| n.as_str()),
        time_spent_secs: spent.get(&c.id).copied().unwrap_or(0),
    };
    e.columns.iter().map(|col| col.cell(&row, &e.tz)).collect()
}

/// The one sheet of an `.xlsx` export, written row by row in constant memory.
struct XlsxSheet {
    columns: u16,
    next_row: u32,
    date: Format,
    datetime: Format,
}

impl XlsxSheet {
    fn new(book: &mut Workbook, columns: &[Column]) -> Result<XlsxSheet, XlsxError> {
        let bold = Format::new().set_bold();
        let sheet = book.add_worksheet_with_constant_memory()?;
        sheet.set_name("Cases")?;
        // Widths before any row: a constant-memory sheet writes rows out as they come.
        for (i, c) in columns.iter().enumerate() {
            let col = u16::try_from(i).unwrap_or(u16::MAX);
            sheet.set_column_width(col, c.width())?;
            sheet.write_string_with_format(0, col, c.header(), &bold)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        Ok(XlsxSheet {
            columns: u16::try_from(columns.len()).unwrap_or(u16::MAX),
            next_row: 1,
            date: Format::new().set_num_format("yyyy-mm-dd"),
            datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm"),
        })
    }

    fn sheet(book: &mut Workbook) -> Result<&mut Worksheet, XlsxError> {
        book.worksheet_from_index(0)
    }

    fn write_rows(&mut self, book: &mut Workbook, rows: &[Vec<Cell>]) -> Result<(), XlsxError> {
        let sheet = Self::sheet(book)?;
        for cells in rows {
            let r = self.next_row;
            for (i, cell) in cells.iter().enumerate() {
                let col = u16::try_from(i).unwrap_or(u16::MAX);
                match cell {
                    Cell::Empty => {}
                    Cell::Text(s) => _ = sheet.write_string(r, col, s)?,
                    Cell::Int(n) => _ = sheet.write_number(r, col, *n as f64)?,
                    Cell::Number(n) => _ = sheet.write_number(r, col, *n)?,
                    Cell::Bool(b) => _ = sheet.write_boolean(r, col, *b)?,
                    Cell::Date(_) | Cell::DateTime(..) => {
                        let format = if matches!(cell, Cell::Date(_)) { &self.date } else { &self.datetime };
                        if let Some(serial) = cell.serial() {
                            sheet.write_number_with_format(r, col, serial, format)?;
                        }
                    }
                }
            }
            self.next_row += 1;
        }
        Ok(())
    }

    /// The autofilter over the header and every row written.
    fn finish(self, book: &mut Workbook) -> Result<(), XlsxError> {
        let last_row = self.next_row - 1;
        Self::sheet(book)?.autofilter(0, 0, last_row, self.columns.saturating_sub(1))?;
        Ok(())
    }
}
