//! Validators for the plain strings every record has: bounded lengths, emails, tags.

/// Longest subject, name or other one-line field, in characters.
pub const MAX_LINE: usize = 500;
/// Longest description or comment body, in characters.
pub const MAX_BODY: usize = 100_000;
/// Longest email address (RFC 5321 path limit).
pub const MAX_EMAIL: usize = 254;

/// A required one-line text: trimmed, not empty, at most `max` characters.
pub fn required_line(value: &str, max: usize) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".into());
    }
    bounded(trimmed, max)
}

/// An optional text: at most `max` characters; kept as given apart from trimming.
pub fn bounded(value: &str, max: usize) -> Result<String, String> {
    let n = value.chars().count();
    if n > max {
        return Err(format!("must be at most {max} characters (got {n})"));
    }
    if value.chars().any(|c| c == '\0') {
        return Err("must not contain NUL characters".into());
    }
    Ok(value.to_string())
}

/// An email address, lower-cased. Deliberately permissive (one `@`, something on both sides, no
/// spaces): real-world addresses are stranger than any regex, and delivery is the real check.
pub fn email(value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.len() > MAX_EMAIL {
        return Err(format!("must be at most {MAX_EMAIL} characters"));
    }
    let Some((local, domain)) = v.rsplit_once('@') else {
        return Err("must be an email address such as ana@example.com".into());
    };
    if local.is_empty() || domain.is_empty() || !domain.contains('.') && domain != "localhost" {
        return Err("must be an email address such as ana@example.com".into());
    }
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces".into());
    }
    Ok(v.to_lowercase())
}

/// A tag: lower-cased, 1–64 characters of letters, digits, `-`, `_`, `:` or `.`.
pub fn tag(value: &str) -> Result<String, String> {
    let v = value.trim().to_lowercase();
    if v.is_empty() || v.chars().count() > 64 {
        return Err("a tag has 1 to 64 characters".into());
    }
    if !v.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ':' | '.')) {
        return Err("a tag has only letters, digits, '-', '_', ':' and '.'".into());
    }
    Ok(v)
}

/// An absolute `http` or `https` URL with a host, at most `max` characters, without credentials
/// (`credentials_hint` says where they go instead) or a fragment.
pub fn http_url(value: &str, max: usize, credentials_hint: &str) -> Result<url::Url, String> {
    let s = value.trim();
    if s.len() > max {
        return Err(format!("at most {max} characters"));
    }
    let url = url::Url::parse(s).map_err(|e| format!("is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must start with http:// or https://".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("must not hold credentials; {credentials_hint}"));
    }
    if url.fragment().is_some() {
        return Err("must not have a #fragment".into());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_line_trims_and_bounds() {
        assert_eq!(required_line("  hi ", 10).as_deref(), Ok("hi"));
        assert!(required_line("   ", 10).is_err());
        assert!(required_line("abcdefghijk", 10).is_err());
        assert!(required_line("ééééé", 5).is_ok(), "lengths count characters, not bytes");
    }

    #[test]
    fn email_accepts_ordinary_addresses_and_lowercases() {
        assert_eq!(email("Ana@Example.COM").as_deref(), Ok("ana@example.com"));
        assert!(email("admin@localhost").is_ok());
        for bad in ["", "ana", "@x.com", "ana@", "a b@x.com", "ana@nodot"] {
            assert!(email(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn tags_are_normalised() {
        assert_eq!(tag(" VIP ").as_deref(), Ok("vip"));
        assert!(tag("two words").is_err());
        assert!(tag("").is_err());
    }
}
