//! ERP context a caller passes with a request (orders, shipments, credit): read leniently, since
//! every ERP names its fields its own way, and turned into facts a reply may state — only what was
//! given, never more.

use serde_json::Value;

use crate::error::{DomainError, Errors};

/// Most orders or shipments read from one context.
pub const MAX_ENTRIES: usize = 100;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Order {
    pub id: Option<String>,
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shipment {
    pub order_id: Option<String>,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    pub status: Option<String>,
    pub shipped_on: Option<String>,
    pub eta: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credit {
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErpContext {
    pub orders: Vec<Order>,
    pub shipments: Vec<Shipment>,
    pub credit: Option<Credit>,
}

/// The first of `keys` that `v` has, as text (a number becomes its digits).
fn text(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match v.get(*k) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().chars().take(200).collect()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

fn list<'a>(v: &'a Value, key: &str, errors: &mut Errors) -> Vec<&'a Value> {
    match v.get(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) if items.len() <= MAX_ENTRIES => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                if item.is_object() {
                    out.push(item);
                } else {
                    errors.add(format!("erp_context.{key}[{i}]"), "must be an object");
                }
            }
            out
        }
        Some(Value::Array(_)) => {
            errors.add(format!("erp_context.{key}"), format!("at most {MAX_ENTRIES} entries"));
            Vec::new()
        }
        Some(_) => {
            errors.add(format!("erp_context.{key}"), "must be a list");
            Vec::new()
        }
    }
}

impl ErpContext {
    /// Reads a context; a wrong shape is a 422 naming the field.
    pub fn parse(v: &Value) -> Result<Self, DomainError> {
        if !v.is_object() {
            return Err(DomainError::field("erp_context", "must be an object with orders, shipments and credit"));
        }
        let mut errors = Errors::new();
        let orders = list(v, "orders", &mut errors)
            .into_iter()
            .map(|o| Order {
                id: text(o, &["id", "order_id", "number", "order_number"]),
                status: text(o, &["status", "state"]),
            })
            .collect();
        let shipments = list(v, "shipments", &mut errors)
            .into_iter()
            .map(|s| Shipment {
                order_id: text(s, &["order_id", "order", "order_number"]),
                carrier: text(s, &["carrier", "courier"]),
                tracking: text(s, &["tracking_number", "tracking", "tracking_id"]),
                status: text(s, &["status", "state"]),
                shipped_on: text(s, &["shipped_at", "shipped_on", "ship_date", "date"]),
                eta: text(s, &["eta", "estimated_delivery", "expected_delivery"]),
            })
            .collect();
        let credit = match v.get("credit") {
            None | Some(Value::Null) => None,
            Some(c) if c.is_object() => Some(Credit { status: text(c, &["status", "state"]) }),
            Some(_) => {
                errors.add("erp_context.credit", "must be an object");
                None
            }
        };
        errors.finish()?;
        Ok(ErpContext { orders, shipments, credit })
    }

    /// The facts a customer-facing reply may state about the orders the case mentions (all of
    /// them when it mentions none and there are few), in the context's own words.
    pub fn facts(&self, case_text: &str) -> Vec<String> {
        let mentioned = |id: &Option<String>| id.as_ref().is_some_and(|id| mentions(case_text, id));
        let any_mentioned =
            self.orders.iter().any(|o| mentioned(&o.id)) || self.shipments.iter().any(|s| mentioned(&s.order_id));
        let relevant = |id: &Option<String>| if any_mentioned { mentioned(id) } else { true };
        let mut out = Vec::new();
        let shipments: Vec<&Shipment> = self.shipments.iter().filter(|s| relevant(&s.order_id)).take(3).collect();
        for s in &shipments {
            let mut f = match &s.order_id {
                Some(o) => format!("Your order #{o}"),
                None => "Your shipment".to_string(),
            };
            match (&s.status, &s.shipped_on) {
                (Some(st), Some(d)) => f.push_str(&format!(" is {} (shipped on {})", st.to_lowercase(), day(d))),
                (Some(st), None) => f.push_str(&format!(" is {}", st.to_lowercase())),
                (None, Some(d)) => f.push_str(&format!(" shipped on {}", day(d))),
                (None, None) => f.push_str(" has a shipment"),
            }
            if let Some(c) = &s.carrier {
                f.push_str(&format!(" with {c}"));
            }
            if let Some(t) = &s.tracking {
                f.push_str(&format!(", tracking number {t}"));
            }
            if let Some(e) = &s.eta {
                f.push_str(&format!("; expected delivery {}", day(e)));
            }
            f.push('.');
            out.push(f);
        }
        for o in self.orders.iter().filter(|o| relevant(&o.id)).take(3) {
            let shipped = shipments.iter().any(|s| s.order_id.is_some() && s.order_id == o.id);
            if let (Some(id), Some(status), false) = (&o.id, &o.status, shipped) {
                out.push(format!("Your order #{id} is {}.", status.to_lowercase()));
            }
        }
        out
    }

    /// Ids of the orders the case mentions that the context knows of.
    pub fn known_orders(&self) -> Vec<&str> {
        self.orders
            .iter()
            .filter_map(|o| o.id.as_deref())
            .chain(self.shipments.iter().filter_map(|s| s.order_id.as_deref()))
            .collect()
    }
}

/// Whether `text` mentions `id` as a whole token ("#4521", "order 4521", not "45210").
fn mentions(text: &str, id: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric() && c != '-').any(|t| t.eq_ignore_ascii_case(id.trim_start_matches('#')))
}

/// "2026-11-21" or an RFC 3339 time as "21 Nov 2026"; anything else as given.
fn day(s: &str) -> String {
    let date = s
        .parse::<jiff::civil::Date>()
        .ok()
        .or_else(|| s.parse::<jiff::Timestamp>().ok().map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date()));
    match date {
        Some(d) => d.strftime("%-d %b %Y").to_string(),
        None => s.to_string(),
    }
}

/// Order-like numbers the case mentions (three or more digits, optionally after `#`).
pub fn order_numbers(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .filter(|t| t.len() >= 3 && t.chars().filter(char::is_ascii_digit).count() >= 3)
        .map(str::to_string)
        .collect();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn facts_state_only_what_was_given_about_the_orders_mentioned() {
        let ctx = ErpContext::parse(&json!({
            "orders": [{"order_id": 4521, "status": "Shipped"}, {"id": "7000", "status": "open"}],
            "shipments": [{"order": "4521", "carrier": "UPS", "tracking_number": "1Z999", "shipped_at": "2026-11-21"}],
            "credit": {"status": "ok", "limit": 5000}
        }))
        .expect("context");
        let facts = ctx.facts("Where is my replacement for order #4521?");
        assert_eq!(facts, ["Your order #4521 shipped on 21 Nov 2026 with UPS, tracking number 1Z999."]);
        let all = ctx.facts("Where are my things?");
        assert_eq!(all.len(), 2, "with no order mentioned, the few there are: {all:?}");
        assert!(all[1].contains("#7000 is open"));
        assert!(ctx.facts("order 45210").len() == 2, "45210 is not 4521");
    }

    #[test]
    fn a_bad_context_names_the_field() {
        let e = ErpContext::parse(&json!({"orders": "many", "shipments": [1]})).expect_err("bad");
        let DomainError::Validation(f) = e else { panic!("validation") };
        let fields: Vec<&str> = f.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["erp_context.orders", "erp_context.shipments[0]"]);
        assert!(ErpContext::parse(&json!([])).is_err());
        assert_eq!(order_numbers("Order #4521 and invoice INV-2231, call 12"), ["4521", "INV-2231"]);
    }
}
