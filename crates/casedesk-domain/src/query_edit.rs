//! Editing a query as written: what the case list's filter controls read from the search box
//! and write back into it.
//!
//! A filter control stands for one field (`status`, `priority`, `queue`, `assignee`, `tag`).
//! It shows the value of the query's plain condition on that field ([`filter_value`]) and, when
//! changed, replaces every plain condition on the field by the new one ([`with_filter`]). Text,
//! phrases, negated conditions (`-tag:spam`) and other fields are kept as the user wrote them, so
//! the controls and the search box never disagree and a query typed by hand survives them.

/// The parts of a query as written: split at whitespace outside double quotes.
pub fn parts(q: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut quoted = false;
    for (i, c) in q.char_indices() {
        if c == '"' {
            quoted = !quoted;
        }
        match (start, c.is_whitespace() && !quoted) {
            (None, false) => start = Some(i),
            (Some(s), true) => {
                out.push(&q[s..i]);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(&q[s..]);
    }
    out
}

/// The names a field goes by (`owner` is `assignee`); none for a field no control stands for.
fn names(field: &str) -> &'static [&'static str] {
    match field {
        "assignee" | "owner" => &["assignee", "owner"],
        "status" => &["status"],
        "priority" => &["priority"],
        "queue" => &["queue"],
        "type" => &["type"],
        "tag" => &["tag"],
        _ => &[],
    }
}

/// A plain (not negated) condition of `part` on `field`: its operator and value as written.
fn condition<'a>(part: &'a str, field: &str) -> Option<(&'a str, &'a str)> {
    names(field).iter().find_map(|name| {
        let rest = part.strip_prefix(name)?;
        let op_len = [">=", "<=", ":", ">", "<"].iter().find(|op| rest.starts_with(**op))?.len();
        Some((&rest[..op_len], &rest[op_len..]))
    })
}

/// The value of the query's plain `field:` condition as the control shows it (quotes removed);
/// `None` when there is none, or when the field is compared (`priority>=high`) rather than
/// matched, which no single choice can show.
pub fn filter_value(q: &str, field: &str) -> Option<String> {
    parts(q).into_iter().find_map(|p| match condition(p, field) {
        Some((":", v)) => Some(v.replace('"', "")),
        _ => None,
    })
}

/// A value as the syntax needs it: quoted when it holds a space (a queue called "Tier 1").
/// Commas separate values, so each value is quoted on its own.
fn written(value: &str) -> String {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| if v.contains(char::is_whitespace) { format!("\"{}\"", v.replace('"', "")) } else { v.to_string() })
        .collect::<Vec<_>>()
        .join(",")
}

/// The query with its plain conditions on `field` replaced by `field:value`, or removed when
/// `value` is empty. The new condition goes last; everything else stays as written.
pub fn with_filter(q: &str, field: &str, value: &str) -> String {
    let Some(name) = names(field).first() else { return q.to_string() };
    let mut kept: Vec<String> =
        parts(q).into_iter().filter(|p| condition(p, field).is_none()).map(str::to_string).collect();
    let value = written(value);
    if !value.is_empty() {
        kept.push(format!("{name}:{value}"));
    }
    kept.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_keep_quoted_values_whole() {
        assert_eq!(
            parts(r#"  printer "paper jam"  queue:"Tier 1" -tag:spam "#),
            ["printer", "\"paper jam\"", "queue:\"Tier 1\"", "-tag:spam"]
        );
        assert!(parts("   ").is_empty());
    }

    #[test]
    fn a_filter_reads_the_plain_condition_of_its_field() {
        let q = r#"printer status:open,pending owner:me queue:"Tier 1" priority>=high -tag:spam"#;
        assert_eq!(filter_value(q, "status").as_deref(), Some("open,pending"));
        assert_eq!(filter_value(q, "assignee").as_deref(), Some("me"), "owner is assignee");
        assert_eq!(filter_value(q, "queue").as_deref(), Some("Tier 1"));
        assert_eq!(filter_value(q, "priority"), None, "a comparison is no single choice");
        assert_eq!(filter_value(q, "tag"), None, "a negated condition is not the filter");
        assert_eq!(filter_value("statuses", "status"), None, "a word that starts like a field");
    }

    #[test]
    fn a_filter_replaces_its_field_and_keeps_the_rest_as_written() {
        let q = r#"printer "paper jam" status:open priority>=high -tag:spam assignee:me"#;
        assert_eq!(
            with_filter(q, "status", "pending"),
            r#"printer "paper jam" priority>=high -tag:spam assignee:me status:pending"#
        );
        assert_eq!(
            with_filter(q, "priority", "critical"),
            r#"printer "paper jam" status:open -tag:spam assignee:me priority:critical"#
        );
        assert_eq!(with_filter(q, "owner", ""), r#"printer "paper jam" status:open priority>=high -tag:spam"#);
        assert_eq!(with_filter(q, "tag", "vip, gold ,"), format!("{q} tag:vip,gold"), "the negated tag stays");
        assert_eq!(with_filter("", "queue", "Tier 1,billing"), r#"queue:"Tier 1",billing"#);
        assert_eq!(with_filter("status:open status:closed", "status", ""), "");
    }
}
