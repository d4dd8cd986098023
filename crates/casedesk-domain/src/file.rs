//! Files on a case: their record, the rules for their names, and the check of a declared content
//! type against what the bytes are.

use jiff::Timestamp;

/// Largest file accepted unless the operator says otherwise: 25 MB, what mail systems commonly
/// accept, so a file that came by email can always be stored.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 25 * 1024 * 1024;
/// How many leading bytes [`content_type`] needs to recognise a format (zip-based office
/// documents name their first entry within the first few hundred bytes).
pub const SNIFF_BYTES: usize = 8 * 1024;
/// Longest file name kept, in characters.
pub const MAX_NAME_CHARS: usize = 255;
/// Most files one comment can carry.
pub const MAX_ATTACHMENTS: usize = 50;
/// The type of content nobody has named.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// A file uploaded to a case, possibly attached to one of its comments. The bytes live in the
/// blob store under `sha256`, shared by every file with the same content.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFile {
    pub id: String,
    pub org_id: String,
    pub case_id: String,
    pub comment_id: Option<String>,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    /// Lowercase hex SHA-256 of the content.
    pub sha256: String,
    pub uploaded_by: String,
    pub created_at: Timestamp,
}

/// A file name as a client sent it, made safe to store and to offer back in a download: only
/// the last path component, no control characters, at most [`MAX_NAME_CHARS`] characters
/// (keeping the extension).
pub fn clean_name(raw: &str) -> Result<String, String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim().trim_end_matches('.').trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        return Err("the file needs a name (the part's filename)".into());
    }
    if cleaned.chars().count() <= MAX_NAME_CHARS {
        return Ok(cleaned.to_string());
    }
    // Keep a short extension so the file still opens with the right program.
    let ext = cleaned.rsplit_once('.').map(|(_, e)| e).filter(|e| !e.is_empty() && e.chars().count() <= 16);
    let keep = MAX_NAME_CHARS - ext.map_or(0, |e| e.chars().count() + 1);
    let stem: String = cleaned.chars().take(keep).collect();
    Ok(match ext {
        Some(e) => format!("{stem}.{e}"),
        None => stem,
    })
}

/// Content types that are zip archives inside.
fn zip_family(t: &str) -> bool {
    t == "application/zip"
        || t.starts_with("application/vnd.openxmlformats-officedocument.")
        || t.starts_with("application/vnd.oasis.opendocument.")
        || matches!(
            t,
            "application/epub+zip"
                | "application/java-archive"
                | "application/vnd.android.package-archive"
                | "application/vnd.ms-xpsdocument"
                | "application/x-xpinstall"
        )
}

/// Content types stored in the OLE2 compound file format (older Microsoft Office files).
fn ole_family(t: &str) -> bool {
    matches!(
        t,
        "application/msword"
            | "application/vnd.ms-excel"
            | "application/vnd.ms-powerpoint"
            | "application/vnd.ms-outlook"
            | "application/vnd.visio"
            | "application/x-msi"
            | "application/x-ole-storage"
    )
}

/// Names that mean the same type.
fn canonical(t: &str) -> &str {
    match t {
        "image/jpg" | "image/pjpeg" => "image/jpeg",
        "application/x-pdf" => "application/pdf",
        "audio/mp3" => "audio/mpeg",
        "application/x-zip-compressed" | "application/x-zip" => "application/zip",
        "application/x-gzip" => "application/gzip",
        other => other,
    }
}

/// A declared type reduced to `type/subtype`, lowercase, parameters dropped.
fn essence(declared: &str) -> Result<String, String> {
    let essence = declared.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b));
    match essence.split_once('/') {
        Some((t, s)) if token(t) && token(s) => Ok(canonical(&essence).to_string()),
        _ => Err(format!("{declared:?} is not a content type (type/subtype, e.g. image/png)")),
    }
}

/// The format the bytes are, when they carry a recognisable binary signature. Text formats (HTML,
/// XML, scripts) are left to the declaration: text is text.
fn sniff(head: &[u8]) -> Option<&'static str> {
    let t = infer::get(head)?.mime_type();
    (!t.starts_with("text/")).then_some(t)
}

/// Whether a type has a binary signature that its content must show.
fn has_signature(t: &str) -> bool {
    !t.starts_with("text/") && infer::is_mime_supported(t)
}

fn compatible(declared: &str, sniffed: &str) -> bool {
    declared == sniffed
        || (zip_family(declared) && zip_family(sniffed))
        || (ole_family(declared) && ole_family(sniffed))
}

/// The content type to store for a file: the declared one when the content agrees with it, the
/// recognised one when nothing (or `application/octet-stream`) was declared. `head` is the start
/// of the content (at least [`SNIFF_BYTES`] when the file is that long). A declaration the bytes
/// contradict is an error: a "PDF" that is a Windows program, a "PNG" that is not an image, "text"
/// with NUL bytes.
pub fn content_type(declared: Option<&str>, head: &[u8]) -> Result<String, String> {
    let declared = match declared.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => Some(essence(d)?),
        None => None,
    };
    let sniffed = sniff(head);
    match (declared.as_deref(), sniffed) {
        (None | Some(OCTET_STREAM), s) => Ok(s.unwrap_or(OCTET_STREAM).to_string()),
        (Some(d), Some(s)) if compatible(d, s) => Ok(d.to_string()),
        (Some(d), Some(s)) => Err(format!("the content is {s}, not {d}")),
        (Some(d), None) if has_signature(d) => Err(format!("the content is not {d}")),
        (Some(d), None) if d.starts_with("text/") && head.contains(&0) => {
            Err(format!("the content is binary, not {d}"))
        }
        (Some(d), None) => Ok(d.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R'];
    const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
    /// The first 64 bytes of an x86-64 executable.
    const ELF: &[u8] = &[
        0x7F, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0x3E, 0, 1, 0, 0, 0, //
        0, 0x10, 0x40, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, //
        0, 0, 0, 0, 0x40, 0, 0x38, 0, 1, 0, 0x40, 0, 0, 0, 0, 0,
    ];

    fn zip_with(first_entry: &str) -> Vec<u8> {
        let mut z = vec![b'P', b'K', 3, 4, 20, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        z.extend_from_slice(&(first_entry.len() as u16).to_le_bytes());
        z.extend_from_slice(&[0, 0]);
        z.extend_from_slice(first_entry.as_bytes());
        z.extend_from_slice(&[0; 64]);
        z
    }

    #[test]
    fn a_declaration_the_content_agrees_with_is_kept() {
        assert_eq!(content_type(Some("image/png"), PNG).as_deref(), Ok("image/png"));
        assert_eq!(content_type(Some("Application/PDF; name=x.pdf"), PDF).as_deref(), Ok("application/pdf"));
        assert_eq!(content_type(Some("image/jpg"), &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]).as_deref(), Ok("image/jpeg"));
        assert_eq!(content_type(Some("text/csv"), b"a,b\n1,2\n").as_deref(), Ok("text/csv"));
        assert_eq!(content_type(Some("text/plain"), b"<!DOCTYPE html><html>").as_deref(), Ok("text/plain"));
        assert_eq!(content_type(Some("application/json"), b"{\"a\":1}").as_deref(), Ok("application/json"));
    }

    #[test]
    fn zip_based_documents_match_any_zip_based_declaration() {
        let docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
        assert_eq!(content_type(Some(docx), &zip_with("word/document.xml")).as_deref(), Ok(docx));
        assert_eq!(content_type(Some(docx), &zip_with("[Content_Types].xml")).as_deref(), Ok(docx));
        assert_eq!(content_type(Some("application/zip"), &zip_with("notes.txt")).as_deref(), Ok("application/zip"));
        let xls = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0];
        assert_eq!(content_type(Some("application/vnd.ms-excel"), &xls).as_deref(), Ok("application/vnd.ms-excel"));
    }

    #[test]
    fn without_a_declaration_the_content_names_the_type() {
        assert_eq!(content_type(None, PNG).as_deref(), Ok("image/png"));
        assert_eq!(content_type(Some("application/octet-stream"), PDF).as_deref(), Ok("application/pdf"));
        assert_eq!(content_type(None, b"just words").as_deref(), Ok(OCTET_STREAM));
        assert_eq!(content_type(Some(""), b"").as_deref(), Ok(OCTET_STREAM));
    }

    #[test]
    fn a_declaration_the_content_contradicts_is_refused() {
        assert_eq!(
            content_type(Some("application/pdf"), ELF),
            Err("the content is application/x-executable, not application/pdf".into())
        );
        assert_eq!(content_type(Some("image/png"), b"not an image"), Err("the content is not image/png".into()));
        assert_eq!(content_type(Some("text/plain"), PNG), Err("the content is image/png, not text/plain".into()));
        assert_eq!(content_type(Some("text/plain"), b"ab\0cd"), Err("the content is binary, not text/plain".into()));
        assert!(content_type(Some("image/png"), &zip_with("word/document.xml")).is_err());
        assert!(content_type(Some("png"), PNG).unwrap_err().contains("not a content type"));
        assert!(content_type(Some("image/p ng"), PNG).is_err());
    }

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(clean_name("C:\\Users\\me\\report.pdf").as_deref(), Ok("report.pdf"));
        assert_eq!(clean_name("../../etc/passwd").as_deref(), Ok("passwd"));
        assert_eq!(clean_name("bad\r\nname\u{7}.txt ").as_deref(), Ok("badname.txt"));
        assert_eq!(clean_name("Überblick – März.xlsx").as_deref(), Ok("Überblick – März.xlsx"));
        assert!(clean_name("").is_err());
        assert!(clean_name("dir/").is_err());
        assert!(clean_name("..").is_err());
    }

    #[test]
    fn long_names_are_cut_keeping_the_extension() {
        let long = format!("{}.pdf", "ä".repeat(400));
        let cut = clean_name(&long).expect("a name");
        assert_eq!(cut.chars().count(), MAX_NAME_CHARS);
        assert!(cut.ends_with(".pdf"));
    }
}
