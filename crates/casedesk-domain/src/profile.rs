//! Case categories and their profiles (seeds 003, 004): a category opens a set of custom fields,
//! each with a kind, and a case's `custom_fields` are checked against its category's profile on
//! every write.

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::error::{DomainError, Errors};
use crate::text;

/// The categories every organization starts with (seed 004's ticket types).
pub const DEFAULT_CATEGORIES: [&str; 5] = ["Bug", "Feature Request", "Question", "Complaint", "Other"];
/// Most fields in one profile.
pub const MAX_FIELDS: usize = 100;

/// What a custom field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    LongText,
    Number,
    Date,
    Select,
    MultiSelect,
    Checkbox,
    User,
    Url,
}

impl FieldKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::LongText => "long_text",
            FieldKind::Number => "number",
            FieldKind::Date => "date",
            FieldKind::Select => "select",
            FieldKind::MultiSelect => "multi_select",
            FieldKind::Checkbox => "checkbox",
            FieldKind::User => "user",
            FieldKind::Url => "url",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Ok(match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "text" => FieldKind::Text,
            "long_text" | "textarea" => FieldKind::LongText,
            "number" => FieldKind::Number,
            "date" => FieldKind::Date,
            "select" => FieldKind::Select,
            "multi_select" => FieldKind::MultiSelect,
            "checkbox" | "boolean" => FieldKind::Checkbox,
            "user" => FieldKind::User,
            "url" => FieldKind::Url,
            _ => {
                return Err(format!(
                    "unknown kind {s:?}; expected text, long_text, number, date, select, multi_select, checkbox, user or url"
                ));
            }
        })
    }

    fn has_options(self) -> bool {
        matches!(self, FieldKind::Select | FieldKind::MultiSelect)
    }
}

/// One field of a profile.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDef {
    /// Lower-case letters, digits and `_`; the key in `custom_fields`.
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    /// The choices of a select or multi-select.
    pub options: Vec<String>,
}

/// A field as an API client sends it.
#[derive(Debug, Clone, Default)]
pub struct FieldInput {
    pub key: String,
    pub label: Option<String>,
    pub kind: String,
    pub required: bool,
    pub options: Vec<String>,
}

/// A category's fields as given; `None` leaves one alone.
#[derive(Debug, Clone, Default)]
pub struct CategoryInput {
    pub name: Option<String>,
    pub fields: Option<Vec<FieldInput>>,
    pub position: Option<i64>,
}

/// A case category and its profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub fields: Vec<FieldDef>,
    pub position: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn valid_key(key: &str) -> bool {
    (1..=64).contains(&key.len())
        && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && key.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
}

/// Checks a profile's field definitions, naming `fields[i].…`.
pub fn validate_fields(inputs: Vec<FieldInput>) -> Result<Vec<FieldDef>, DomainError> {
    let mut errors = Errors::new();
    if inputs.len() > MAX_FIELDS {
        errors.add("fields", format!("at most {MAX_FIELDS} fields"));
    }
    let mut out: Vec<FieldDef> = Vec::new();
    for (i, f) in inputs.into_iter().enumerate() {
        let at = |name: &str| format!("fields[{i}].{name}");
        if !valid_key(&f.key) {
            errors.add(at("key"), "1 to 64 lower-case letters, digits or _, starting with a letter");
        } else if out.iter().any(|d| d.key == f.key) {
            errors.add(at("key"), "is used by another field");
        }
        let kind = errors.take(&at("kind"), FieldKind::parse(&f.kind));
        let label = match f.label {
            Some(l) => errors.take(&at("label"), text::required_line(&l, 200)),
            None => Some(f.key.clone()),
        };
        let mut options: Vec<String> = Vec::new();
        for (j, o) in f.options.iter().enumerate() {
            match text::required_line(o, 200) {
                Ok(o) if !options.contains(&o) => options.push(o),
                Ok(_) => errors.add(format!("fields[{i}].options[{j}]"), "is given twice"),
                Err(m) => errors.add(format!("fields[{i}].options[{j}]"), m),
            }
        }
        match kind {
            Some(k) if k.has_options() && options.is_empty() => errors.add(at("options"), "a select needs options"),
            Some(k) if !k.has_options() && !options.is_empty() => {
                errors.add(at("options"), "only a select has options")
            }
            _ => {}
        }
        if let (Some(kind), Some(label)) = (kind, label) {
            out.push(FieldDef { key: f.key, label, kind, required: f.required, options });
        }
    }
    errors.finish()?;
    Ok(out)
}

fn check_value(def: &FieldDef, value: &Value) -> Result<(), String> {
    let text_max = |max: usize| match value {
        Value::String(s) if s.chars().count() <= max => Ok(()),
        Value::String(_) => Err(format!("must be at most {max} characters")),
        _ => Err("must be text".into()),
    };
    match def.kind {
        FieldKind::Text => text_max(500),
        FieldKind::LongText => text_max(20_000),
        FieldKind::Number => {
            if value.is_number() {
                Ok(())
            } else {
                Err("must be a number".into())
            }
        }
        FieldKind::Date => match value.as_str().map(str::parse::<jiff::civil::Date>) {
            Some(Ok(_)) => Ok(()),
            _ => Err("must be a date (2026-03-01)".into()),
        },
        FieldKind::Checkbox => {
            if value.is_boolean() {
                Ok(())
            } else {
                Err("must be true or false".into())
            }
        }
        FieldKind::Select => match value.as_str() {
            Some(s) if def.options.iter().any(|o| o == s) => Ok(()),
            _ => Err(format!("must be one of {}", def.options.join(", "))),
        },
        FieldKind::MultiSelect => match value.as_array() {
            Some(items) if items.iter().all(|v| v.as_str().is_some_and(|s| def.options.iter().any(|o| o == s))) => {
                Ok(())
            }
            _ => Err(format!("must be a list of {}", def.options.join(", "))),
        },
        FieldKind::User => match value.as_str() {
            Some(s) if crate::ids::IdKind::User.matches(s) => Ok(()),
            _ => Err("must be a user id (usr_…)".into()),
        },
        FieldKind::Url => match value.as_str() {
            Some(s)
                if (s.starts_with("https://") || s.starts_with("http://")) && s.len() <= 2000 && !s.contains(' ') =>
            {
                Ok(())
            }
            _ => Err("must be an http(s) URL".into()),
        },
    }
}

impl Category {
    /// Applies `input`, reporting every bad field of the category and of its profile at once.
    pub fn apply(mut self, input: CategoryInput, creating: bool) -> Result<Category, DomainError> {
        let mut errors = Errors::new();
        match input.name {
            Some(n) => {
                if let Some(n) = errors.take("name", text::required_line(&n, 100)) {
                    self.name = n;
                }
            }
            None if creating => errors.add("name", "is required"),
            None => {}
        }
        match input.position {
            Some(p) if (0..=10_000).contains(&p) => self.position = p,
            Some(_) => errors.add("position", "must be 0 to 10000"),
            None => {}
        }
        if let Some(fields) = input.fields {
            match validate_fields(fields) {
                Ok(f) => self.fields = f,
                Err(DomainError::Validation(f)) => f.into_iter().for_each(|e| errors.add(e.field, e.message)),
                Err(e) => return Err(e),
            }
        }
        errors.finish()?;
        Ok(self)
    }

    /// Checks a case's custom fields against this profile: every key defined, every value of its
    /// kind (`null` clears a value), every required field given. Errors name `custom_fields.<key>`.
    pub fn check(&self, fields: &Map<String, Value>) -> Result<(), DomainError> {
        let mut errors = Errors::new();
        for (key, value) in fields {
            let field = format!("custom_fields.{key}");
            match self.fields.iter().find(|d| &d.key == key) {
                None => errors.add(field, format!("is not a field of category {}", self.name)),
                Some(_) if value.is_null() => {}
                Some(def) => {
                    if let Err(m) = check_value(def, value) {
                        errors.add(field, m);
                    }
                }
            }
        }
        for def in self.fields.iter().filter(|d| d.required) {
            if fields.get(&def.key).is_none_or(Value::is_null) {
                errors.add(format!("custom_fields.{}", def.key), "is required");
            }
        }
        errors.finish()
    }

    /// The values that survive a move to this category, and the keys dropped.
    pub fn keep(&self, fields: &Map<String, Value>) -> (Map<String, Value>, Vec<String>) {
        let mut kept = Map::new();
        let mut dropped = Vec::new();
        for (key, value) in fields {
            match self.fields.iter().find(|d| &d.key == key) {
                Some(def) if value.is_null() || check_value(def, value).is_ok() => {
                    kept.insert(key.clone(), value.clone());
                }
                _ => dropped.push(key.clone()),
            }
        }
        (kept, dropped)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn field(key: &str, kind: &str, required: bool, options: &[&str]) -> FieldInput {
        FieldInput {
            key: key.into(),
            label: None,
            kind: kind.into(),
            required,
            options: options.iter().map(|o| o.to_string()).collect(),
        }
    }

    fn bug() -> Category {
        Category {
            id: "ccat_1".into(),
            org_id: "org_1".into(),
            name: "Bug".into(),
            fields: validate_fields(vec![
                field("version", "text", true, &[]),
                field("severity", "select", false, &["minor", "major"]),
                field("platforms", "multi_select", false, &["web", "ios"]),
                field("seen_on", "date", false, &[]),
                field("users", "number", false, &[]),
                field("regression", "checkbox", false, &[]),
                field("reporter", "user", false, &[]),
                field("link", "url", false, &[]),
            ])
            .expect("valid"),
            position: 1,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn fields_of(e: DomainError) -> Vec<String> {
        match e {
            DomainError::Validation(f) => f.into_iter().map(|e| e.field).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn values_are_checked_against_the_profile() {
        let ok = json!({"version": "2.1", "severity": "major", "platforms": ["web"], "seen_on": "2026-03-01",
            "users": 12, "regression": true, "reporter": "usr_abc", "link": "https://x.example/1"});
        assert_eq!(bug().check(ok.as_object().unwrap()), Ok(()));
        let bad = json!({"severity": "fatal", "platforms": ["mac"], "seen_on": "yesterday", "users": "many",
            "regression": "yes", "reporter": "cnt_1", "link": "ftp://x", "colour": "red"});
        let mut got = fields_of(bug().check(bad.as_object().unwrap()).unwrap_err());
        got.sort();
        let mut want: Vec<String> =
            ["colour", "link", "platforms", "regression", "reporter", "seen_on", "severity", "users", "version"]
                .iter()
                .map(|k| format!("custom_fields.{k}"))
                .collect();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn definitions_are_validated() {
        let e = validate_fields(vec![
            field("Version", "text", false, &[]),
            field("a", "colour", false, &[]),
            field("s", "select", false, &[]),
            field("t", "text", false, &["x"]),
            field("t", "number", false, &[]),
        ])
        .unwrap_err();
        assert_eq!(
            fields_of(e),
            ["fields[0].key", "fields[1].kind", "fields[2].options", "fields[3].options", "fields[4].key"]
        );
    }

    #[test]
    fn a_new_category_keeps_what_it_shares() {
        let question = Category {
            name: "Question".into(),
            fields: validate_fields(vec![field("version", "text", false, &[]), field("severity", "text", false, &[])])
                .expect("valid"),
            ..bug()
        };
        let values = json!({"version": "2.1", "severity": "major", "platforms": ["web"]});
        let (kept, dropped) = question.keep(values.as_object().unwrap());
        assert_eq!(kept, json!({"version": "2.1", "severity": "major"}).as_object().unwrap().clone());
        assert_eq!(dropped, ["platforms"]);
    }

    #[test]
    fn a_category_reports_its_own_and_its_profiles_errors_together() {
        let input = CategoryInput {
            name: Some(" ".into()),
            position: Some(-1),
            fields: Some(vec![field("Bad", "text", false, &[])]),
        };
        let got = fields_of(bug().apply(input, false).unwrap_err());
        assert_eq!(got, ["name", "position", "fields[0].key"]);
        let renamed =
            bug().apply(CategoryInput { name: Some("Defect".into()), ..Default::default() }, false).expect("ok");
        assert_eq!((renamed.name.as_str(), renamed.fields.len()), ("Defect", 8));
    }

    #[test]
    fn a_custom_status_decides_pausing_over_its_category() {
        use crate::case::Status;
        use crate::workflow::{CustomStatus, pauses};
        let mk = |id: &str, category, is_default, pauses_sla| CustomStatus {
            name: id.into(),
            category,
            is_default,
            pauses_sla,
            ..CustomStatus::blank(id.into(), "org_1".into(), Timestamp::UNIX_EPOCH)
        };
        let statuses = [mk("hold", Status::OnHold, true, None), mk("chasing", Status::OnHold, false, Some(false))];
        assert!(pauses(&statuses, Status::OnHold, None, true), "the default follows its category");
        assert!(!pauses(&statuses, Status::OnHold, Some("chasing"), true));
        assert!(pauses(&statuses, Status::Open, Some("gone"), true), "an unknown status follows the category");
    }
}
