//! Message templates of automation rules and macros: text with `{{placeholder}}`s such as
//! `{{requester.name}}` or `{{case.number}}`, filled from the case at send time.
//!
//! Templates are written by admins and agents, so they hold data, never logic: a placeholder is a
//! name from [`PLACEHOLDERS`], nothing else (no loops, filters or expressions). That is why this
//! is a small parser here rather than a general template language: a template is checked
//! completely when it is saved ([`Template::parse`] names every unknown placeholder), so it can
//! never fail when a rule fires at three in the morning. Rendering escapes the values for the
//! output it makes ([`Escape::Html`] for HTML mail, [`Escape::None`] for plain text such as a
//! comment), never the template's own text.

use std::collections::BTreeMap;

/// Every placeholder a template may use, with what it stands for.
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    ("case.number", "the case number"),
    ("case.subject", "the case subject"),
    ("case.status", "the case status"),
    ("case.priority", "the case priority"),
    ("case.channel", "the channel the case came in by"),
    ("requester.name", "the requester's name"),
    ("requester.email", "the requester's email address"),
    ("account.name", "the requester's account"),
    ("agent.name", "the agent applying a macro, or the case owner for a rule"),
    ("queue.name", "the case's queue"),
];

/// How values are escaped when they are put into the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// Plain text (a comment, a subject line): values go in as they are.
    None,
    /// HTML: `& < > " '` in values become entities.
    Html,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Placeholder(&'static str),
}

/// A parsed template: only known placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// The values of the placeholders; a missing one renders as the empty string.
pub type Values = BTreeMap<&'static str, String>;

impl Template {
    /// Parses `src`: `{{ name }}` (spaces optional) for each placeholder. An unknown name, a
    /// `{{` without its `}}`, or an empty `{{}}` is an error naming it.
    pub fn parse(src: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = src;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or_else(|| "a {{ without its closing }}".to_string())?;
            let name = after[..close].trim();
            let known = PLACEHOLDERS.iter().find(|(n, _)| *n == name).map(|(n, _)| *n).ok_or_else(|| {
                let names: Vec<&str> = PLACEHOLDERS.iter().map(|(n, _)| *n).collect();
                format!("unknown placeholder {{{{{name}}}}}; expected one of {}", names.join(", "))
            })?;
            parts.push(Part::Placeholder(known));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// The template filled with `values`, each escaped for `escape`.
    pub fn render(&self, values: &Values, escape: Escape) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Placeholder(name) => {
                    let v = values.get(name).map(String::as_str).unwrap_or("");
                    match escape {
                        Escape::None => out.push_str(v),
                        Escape::Html => escape_html(v, &mut out),
                    }
                }
            }
        }
        out
    }
}

/// Checks a template written into a rule or macro field: `Ok` keeps the source as written.
pub fn check(src: &str) -> Result<String, String> {
    Template::parse(src).map(|_| src.to_string())
}

/// Renders a template that was checked when it was saved; a template that no longer parses
/// (a placeholder removed in a later version) renders as its source, unfilled.
pub fn render(src: &str, values: &Values, escape: Escape) -> String {
    match Template::parse(src) {
        Ok(t) => t.render(values, escape),
        Err(_) => src.to_string(),
    }
}

fn escape_html(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values {
        let mut v = Values::new();
        v.insert("requester.name", "Ann <O'Brien> & co".to_string());
        v.insert("case.number", "42".to_string());
        v
    }

    #[test]
    fn fills_known_placeholders_with_or_without_spaces() {
        let t = Template::parse("Hi {{requester.name}}, case #{{ case.number }} <b>ok</b>").unwrap();
        assert_eq!(t.render(&values(), Escape::None), "Hi Ann <O'Brien> & co, case #42 <b>ok</b>");
    }

    #[test]
    fn html_escapes_values_not_the_template() {
        let t = Template::parse("<p>{{requester.name}}</p>").unwrap();
        assert_eq!(t.render(&values(), Escape::Html), "<p>Ann &lt;O&#39;Brien&gt; &amp; co</p>");
    }

    #[test]
    fn missing_values_render_empty() {
        let t = Template::parse("[{{agent.name}}]").unwrap();
        assert_eq!(t.render(&values(), Escape::None), "[]");
    }

    #[test]
    fn rejects_what_it_cannot_fill() {
        for (src, want) in [
            ("{{requester.phone}}", "unknown placeholder {{requester.phone}}"),
            ("{{}}", "unknown placeholder {{}}"),
            ("Hi {{case.number", "without its closing"),
            ("{{ case.number | upper }}", "unknown placeholder"),
        ] {
            let err = Template::parse(src).unwrap_err();
            assert!(err.contains(want), "{src}: {err}");
        }
    }

    #[test]
    fn text_without_placeholders_is_itself() {
        assert_eq!(render("just } text {", &values(), Escape::Html), "just } text {");
        assert_eq!(check("plain").unwrap(), "plain");
    }
}
