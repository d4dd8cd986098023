//! Files on cases: upload, list, download, delete, attach to comments, size and type checks,
//! merges, the blob sweep, and a server killed in the middle of an upload.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{Resp, TestApp, spawn_app, spawn_app_with_file_limit};
use crate::server::{free_port, wait_ready};

pub(crate) const BOUNDARY: &str = "----casedesk-test-boundary-7MA4YWxkTrZu0gW";
const PNG_SIGNATURE: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R'];

/// A PNG-looking content of `len` bytes whose bytes after the signature depend on `seed`.
pub(crate) fn png(len: usize, seed: u8) -> Vec<u8> {
    let mut v = PNG_SIGNATURE.to_vec();
    v.extend((0..len.saturating_sub(v.len())).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    v
}

/// One part of a multipart body: part name, file name, content type, bytes.
pub(crate) type Part<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

/// A multipart body with these parts.
pub(crate) fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, ctype, bytes) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{name}\"");
        if let Some(f) = filename {
            disposition.push_str(&format!("; filename=\"{f}\""));
        }
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        if let Some(t) = ctype {
            body.extend_from_slice(format!("Content-Type: {t}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn send(app: &TestApp, case_id: &str, body: Vec<u8>, content_type: &str) -> Resp {
    let r = app
        .client
        .post(format!("{}/api/v1/cases/{case_id}/files", app.base))
        .bearer_auth(&app.token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("upload request");
    let status = r.status();
    let headers = r.headers().clone();
    let bytes = r.bytes().await.expect("body");
    Resp { status, headers, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
}

pub(crate) async fn upload(app: &TestApp, case_id: &str, name: &str, ctype: Option<&str>, bytes: &[u8]) -> Resp {
    let body = multipart(&[("file", Some(name), ctype, bytes)]);
    send(app, case_id, body, &format!("multipart/form-data; boundary={BOUNDARY}")).await
}

async fn download(app: &TestApp, url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app.client.get(format!("{}{url}", app.base)).bearer_auth(&app.token);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("download request")
}

async fn new_case(app: &TestApp, subject: &str) -> String {
    let case = app.create_case(json!({ "subject": subject })).await;
    case["id"].as_str().expect("id").to_string()
}

/// Every file of the blob directory outside `tmp` and `trash`: the published contents.
fn published(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() && dir == root && (name == "tmp" || name == "trash") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(name);
            }
        }
    }
    out.sort();
    out
}

fn partials(root: &Path) -> usize {
    std::fs::read_dir(root.join("tmp")).map(|d| d.count()).unwrap_or(0)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[tokio::test]
async fn a_file_is_uploaded_listed_downloaded_and_deleted_on_the_timeline() {
    let app = spawn_app().await;
    let case_id = new_case(&app, "Printer shows a blank screen").await;
    let content = png(70_000, 1);

    let r = upload(&app, &case_id, "screen shot März.png", Some("image/png"), &content).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let f = r.body.clone();
    let file_id = f["id"].as_str().expect("id").to_string();
    assert!(file_id.starts_with("fil_"));
    assert_eq!(f["name"], "screen shot März.png");
    assert_eq!(f["content_type"], "image/png");
    assert_eq!(f["size"], 70_000);
    assert_eq!(f["sha256"], sha256_hex(&content));
    assert_eq!(f["case_id"], case_id);
    assert_eq!(f["comment_id"], Value::Null);
    assert_eq!(f["uploaded_by"], app.admin_id);
    assert_eq!(r.header("location"), Some(format!("/api/v1/cases/{case_id}/files/{file_id}")));

    let list = app.get(&format!("/api/v1/cases/{case_id}/files")).await;
    assert_eq!(list.body["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(list.body["data"][0]["id"], file_id);
    let one = app.get(&format!("/api/v1/cases/{case_id}/files/{file_id}")).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["sha256"], f["sha256"]);

    let url = f["content_url"].as_str().expect("content_url").to_string();
    let d = download(&app, &url, &[]).await;
    assert_eq!(d.status(), StatusCode::OK);
    let h = d.headers().clone();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["content-length"], "70000");
    assert_eq!(
        h["content-disposition"],
        "attachment; filename=\"screen shot M_rz.png\"; filename*=UTF-8''screen%20shot%20M%C3%A4rz.png"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    let etag = h["etag"].to_str().expect("etag").to_string();
    assert_eq!(d.bytes().await.expect("bytes").as_ref(), content.as_slice(), "the same bytes come back");
    let again = download(&app, &url, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    let del = app.delete(&format!("/api/v1/cases/{case_id}/files/{file_id}")).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(download(&app, &url, &[]).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/api/v1/cases/{case_id}/files")).await.body["data"], json!([]));
    app.delete(&format!("/api/v1/cases/{case_id}/files/{file_id}")).await.assert_problem(404, "not_found");

    let timeline = app.timeline(&case_id).await;
    let kinds: Vec<&str> = timeline.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.contains(&"file.added") && kinds.contains(&"file.deleted"), "{kinds:?}");
    let deleted = timeline.iter().find(|e| e["kind"] == "file.deleted").expect("file.deleted");
    assert_eq!(deleted["data"]["name"], "screen shot März.png");
    assert_eq!(deleted["data"]["file_id"], file_id);
}

#[tokio::test]
async fn a_declared_type_the_content_contradicts_is_refused_and_a_missing_one_is_recognised() {
    let app = spawn_app().await;
    let case_id = new_case(&app, "Attachments").await;
    let elf: Vec<u8> = {
        let mut v = vec![0x7F, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0x3E, 0, 1, 0, 0, 0];
        v.extend_from_slice(&[0, 0x10, 0x40, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        v.extend_from_slice(&[0, 0, 0, 0, 0x40, 0, 0x38, 0, 1, 0, 0x40, 0, 0, 0, 0, 0]);
        v.extend(std::iter::repeat_n(0u8, 1000));
        v
    };
    let r = upload(&app, &case_id, "invoice.pdf", Some("application/pdf"), &elf).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["file"]);
    assert!(r.body["errors"][0]["message"].as_str().unwrap_or("").contains("not application/pdf"), "{}", r.body);

    let r = upload(&app, &case_id, "photo.png", Some("image/png"), b"this is not an image at all").await;
    assert_eq!(r.error_fields(), vec!["file"]);
    let r = upload(&app, &case_id, "notes.txt", Some("text/plain"), &png(100, 2)).await;
    assert_eq!(r.error_fields(), vec!["file"]);
    // Nothing refused was recorded or kept.
    assert_eq!(app.get(&format!("/api/v1/cases/{case_id}/files")).await.body["data"], json!([]));
    assert!(published(app.files.path()).is_empty(), "a refused upload publishes nothing");
    assert_eq!(partials(app.files.path()), 0, "a refused upload leaves no partial behind");

    // No declared type (or octet-stream): the content names it.
    let r = upload(&app, &case_id, "scan", None, &png(500, 3)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["content_type"], "image/png");
    let r = upload(&app, &case_id, "log.txt", Some("application/octet-stream"), b"plain words").await;
    assert_eq!(r.body["content_type"], "application/octet-stream");
    let r = upload(&app, &case_id, "data.csv", Some("text/csv; charset=utf-8"), b"a,b\n1,2\n").await;
    assert_eq!(r.body["content_type"], "text/csv");
    // A path in the file name is dropped.
    let r = upload(&app, &case_id, "C:\\\\Users\\\\me\\\\report.csv", Some("text/csv"), b"x,y\n").await;
    assert_eq!(r.body["name"], "report.csv", "{}", r.body);
}

#[tokio::test]
async fn malformed_uploads_get_clear_errors() {
    let app = spawn_app().await;
    let case_id = new_case(&app, "Bad uploads").await;
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");

    let r = send(&app, &case_id, b"{\"file\": 1}".to_vec(), "application/json").await;
    r.assert_problem(415, "unsupported_media_type");
    assert!(r.body["detail"].as_str().unwrap_or("").contains("multipart/form-data"));

    let r = send(&app, &case_id, multipart(&[]), &ct).await;
    assert_eq!(r.error_fields(), vec!["file"]);
    let r = send(&app, &case_id, multipart(&[("attachment", Some("a.txt"), Some("text/plain"), b"x")]), &ct).await;
    assert_eq!(r.error_fields(), vec!["attachment"]);
    let r = send(&app, &case_id, multipart(&[("file", None, Some("text/plain"), b"x")]), &ct).await;
    assert_eq!(r.error_fields(), vec!["file"], "a part without a filename: {}", r.body);
    let two = multipart(&[("file", Some("a.txt"), None, b"a"), ("file", Some("b.txt"), None, b"b")]);
    assert_eq!(send(&app, &case_id, two, &ct).await.error_fields(), vec!["file"]);
    let r = send(&app, &case_id, b"--nonsense".to_vec(), &ct).await;
    r.assert_problem(400, "bad_request");

    assert_eq!(upload(&app, "case_0000000000", "a.txt", None, b"a").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/api/v1/cases/{case_id}/files")).await.body["data"], json!([]));

    // A closed case takes no files.
    app.patch(&format!("/api/v1/cases/{case_id}"), json!({ "status": "closed" })).await;
    upload(&app, &case_id, "late.txt", Some("text/plain"), b"too late").await.assert_problem(409, "case_closed");
}

#[tokio::test]
async fn files_over_the_size_limit_get_413_and_leave_nothing_behind() {
    let limit = 64 * 1024;
    let app = spawn_app_with_file_limit(limit).await;
    let case_id = new_case(&app, "Big attachments").await;

    let exact = png(limit as usize, 4);
    let r = upload(&app, &case_id, "exact.png", Some("image/png"), &exact).await;
    assert_eq!(r.status, StatusCode::CREATED, "a file of exactly the limit is taken: {}", r.body);

    let over = png(limit as usize + 1, 5);
    let r = upload(&app, &case_id, "over.png", Some("image/png"), &over).await;
    r.assert_problem(413, "payload_too_large");
    assert!(r.body["detail"].as_str().unwrap_or("").contains(&limit.to_string()), "{}", r.body);
    let r = upload(&app, &case_id, "much-over.png", Some("image/png"), &png(3 * limit as usize, 6)).await;
    r.assert_problem(413, "payload_too_large");

    let list = app.get(&format!("/api/v1/cases/{case_id}/files")).await;
    assert_eq!(list.body["data"].as_array().map(Vec::len), Some(1), "only the file within the limit");
    assert_eq!(published(app.files.path()), vec![sha256_hex(&exact)]);
    assert_eq!(partials(app.files.path()), 0);

    // A body declared far larger than the limit is refused before any of it is read.
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    let head = format!(
        "POST /api/v1/cases/{case_id}/files HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\n\
         content-type: multipart/form-data; boundary={BOUNDARY}\r\ncontent-length: 1000000000\r\nconnection: close\r\n\r\n",
        app.token
    );
    socket.write_all(head.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut answer))
        .await
        .expect("answered without the body")
        .expect("read");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 413"), "{}", String::from_utf8_lossy(&answer));
}

#[tokio::test]
async fn files_attach_to_a_comment_once_and_show_on_it() {
    let app = spawn_app().await;
    let case_id = new_case(&app, "Error dialog").await;
    let other_case = new_case(&app, "Another case").await;
    let a = upload(&app, &case_id, "error.png", None, &png(300, 7)).await.body;
    let b = upload(&app, &case_id, "log.txt", Some("text/plain"), b"line 1\nline 2\n").await.body;
    let elsewhere = upload(&app, &other_case, "x.txt", Some("text/plain"), b"x").await.body;

    let r = app
        .post(
            &format!("/api/v1/cases/{case_id}/comments"),
            json!({ "body": "Screenshot and log attached.", "file_ids": [a["id"], b["id"]] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let comment_id = r.body["id"].as_str().expect("id").to_string();
    let names: Vec<&str> =
        r.body["files"].as_array().expect("files").iter().filter_map(|f| f["name"].as_str()).collect();
    assert_eq!(names, vec!["error.png", "log.txt"]);

    let listed = app.get(&format!("/api/v1/cases/{case_id}/comments")).await;
    assert_eq!(listed.body["data"][0]["files"].as_array().map(Vec::len), Some(2));
    let f = app.get(&format!("/api/v1/cases/{case_id}/files/{}", a["id"].as_str().unwrap_or(""))).await;
    assert_eq!(f.body["comment_id"], comment_id);
    let detail = app.get(&format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(detail.body["comments"][0]["files"][1]["name"], "log.txt");
    let added = app.timeline(&case_id).await.into_iter().find(|e| e["kind"] == "comment.added").expect("comment.added");
    assert_eq!(added["data"]["file_ids"], json!([a["id"], b["id"]]));

    // Attached already, another case's, unknown, twice: 422 naming the entry; nothing written.
    let r = app
        .post(
            &format!("/api/v1/cases/{case_id}/comments"),
            json!({ "body": "again", "file_ids": [a["id"], elsewhere["id"], "fil_nope", b["id"]] }),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["file_ids[0]", "file_ids[1]", "file_ids[2]", "file_ids[3]"]);
    assert_eq!(
        app.get(&format!("/api/v1/cases/{case_id}/comments")).await.body["data"].as_array().map(Vec::len),
        Some(1)
    );

    // A comment carries at most 50 files; more is refused before any is looked up.
    let many: Vec<String> = (0..51).map(|i| format!("fil_{i}")).collect();
    let r = app.post(&format!("/api/v1/cases/{case_id}/comments"), json!({ "body": "many", "file_ids": many })).await;
    assert_eq!(r.error_fields(), vec!["file_ids"]);

    // Deleting an attached file takes it off the comment.
    app.delete(&format!("/api/v1/cases/{case_id}/files/{}", b["id"].as_str().unwrap_or(""))).await;
    let listed = app.get(&format!("/api/v1/cases/{case_id}/comments")).await;
    assert_eq!(listed.body["data"][0]["files"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn merging_moves_files_to_the_target() {
    let app = spawn_app().await;
    let target = new_case(&app, "Target").await;
    let source = new_case(&app, "Source").await;
    let content = png(2000, 8);
    let f = upload(&app, &source, "from-source.png", None, &content).await.body;
    let r = app.post(&format!("/api/v1/cases/{target}/merge"), json!({ "source_ids": [source] })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let files = app.get(&format!("/api/v1/cases/{target}/files")).await.body;
    assert_eq!(files["data"][0]["id"], f["id"]);
    assert_eq!(files["data"][0]["created_at"], f["created_at"], "the file keeps its time");
    assert_eq!(files["data"][0]["uploaded_by"], f["uploaded_by"]);
    let url = files["data"][0]["content_url"].as_str().expect("url").to_string();
    assert!(url.contains(&target));
    assert_eq!(download(&app, &url, &[]).await.bytes().await.expect("bytes").as_ref(), content.as_slice());
    assert_eq!(app.get(&format!("/api/v1/cases/{source}/files")).await.body["data"], json!([]));
}

#[tokio::test]
async fn the_sweep_removes_contents_only_when_no_file_uses_them() {
    let app = spawn_app().await;
    let case_id = new_case(&app, "Same screenshot twice").await;
    let content = png(5000, 9);
    let one = upload(&app, &case_id, "first.png", None, &content).await.body;
    let two = upload(&app, &case_id, "second.png", None, &content).await.body;
    assert_eq!(one["sha256"], two["sha256"]);
    assert_eq!(published(app.files.path()).len(), 1, "the same content is stored once");

    app.delete(&format!("/api/v1/cases/{case_id}/files/{}", one["id"].as_str().unwrap_or(""))).await;
    let r = app.core.sweep_blobs(Duration::ZERO).await.expect("sweep");
    assert_eq!(r.removed, 0, "the second file still uses the content");
    let url = two["content_url"].as_str().expect("url").to_string();
    assert_eq!(download(&app, &url, &[]).await.bytes().await.expect("bytes").as_ref(), content.as_slice());

    // A crashed upload's partial goes too.
    std::fs::write(app.files.path().join("tmp").join("crashed.part"), b"half a file").expect("write");
    app.delete(&format!("/api/v1/cases/{case_id}/files/{}", two["id"].as_str().unwrap_or(""))).await;
    let r = app.core.sweep_blobs(Duration::ZERO).await.expect("sweep");
    assert_eq!((r.removed, r.partials), (1, 1));
    assert!(published(app.files.path()).is_empty());
    assert_eq!(partials(app.files.path()), 0);
    // Within the grace period nothing is touched.
    let three = upload(&app, &case_id, "third.png", None, &content).await.body;
    app.delete(&format!("/api/v1/cases/{case_id}/files/{}", three["id"].as_str().unwrap_or(""))).await;
    let r = app.core.sweep_blobs(Duration::from_secs(3600)).await.expect("sweep");
    assert_eq!(r.removed, 0);
    assert_eq!(published(app.files.path()).len(), 1);
}

#[tokio::test]
async fn files_are_for_agents_of_the_case_organization_only() {
    let app = spawn_app().await;
    let case_id = new_case(&app, "Private").await;
    let f = upload(&app, &case_id, "secret.txt", Some("text/plain"), b"org secret").await.body;
    let (_, other_token) = app.other_org().await;
    let url = f["content_url"].as_str().expect("url").to_string();
    let r = app.client.get(format!("{}{url}", app.base)).bearer_auth(&other_token).send().await.expect("get");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app.client.get(format!("{}{url}", app.base)).send().await.expect("get");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

// ---- a server killed mid-upload ------------------------------------------------------------------

const BIN: &str = env!("CARGO_BIN_EXE_casedesk");
const TOKEN: &str = "crash-test-token-0123456789";

fn start_server(db: &Path, files: &Path, port: u16) -> std::process::Child {
    Command::new(BIN)
        .arg("--database-url")
        .arg(db)
        .arg("--files-dir")
        .arg(files)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("CASEDESK_BOOTSTRAP_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start casedesk")
}

#[tokio::test]
async fn a_server_killed_mid_upload_leaves_no_file_pointing_at_partial_content() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("casedesk.db");
    let files = dir.path().join("files");
    let port = free_port();
    let mut child = start_server(&db, &files, port);
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    let client = reqwest::Client::new();
    let case: Value = client
        .post(format!("{base}/api/v1/cases"))
        .bearer_auth(TOKEN)
        .json(&json!({ "subject": "Large log file" }))
        .send()
        .await
        .expect("create case")
        .json()
        .await
        .expect("json");
    let case_id = case["id"].as_str().expect("id").to_string();

    // Half of a 20 MB upload, then the server dies.
    let content = png(20 * 1024 * 1024, 10);
    let body = multipart(&[("file", Some("big.png"), Some("image/png"), &content)]);
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let head = format!(
        "POST /api/v1/cases/{case_id}/files HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {TOKEN}\r\n\
         content-type: multipart/form-data; boundary={BOUNDARY}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await.expect("head");
    socket.write_all(&body[..body.len() / 2]).await.expect("first half");
    socket.flush().await.expect("flush");
    // The server has stored part of it by now.
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_dir(files.join("tmp"))
        .map(|d| d.flatten().all(|e| e.metadata().map_or(0, |m| m.len()) == 0))
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "the upload did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
    drop(socket);

    // Restarted: no file was recorded, no content published, the partial is the only trace.
    let port = free_port();
    let mut child = start_server(&db, &files, port);
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    let list: Value = client
        .get(format!("{base}/api/v1/cases/{case_id}/files"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(list["data"], json!([]), "no file record for a cut-off upload");
    assert!(published(&files).is_empty(), "no published content from a cut-off upload");
    assert_eq!(partials(&files), 1, "the partial waits for the sweep");

    // The same upload, whole this time, works; the content comes back intact.
    let r = client
        .post(format!("{base}/api/v1/cases/{case_id}/files"))
        .bearer_auth(TOKEN)
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(body)
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), StatusCode::CREATED);
    let f: Value = r.json().await.expect("json");
    assert_eq!(f["sha256"], sha256_hex(&content));
    assert_eq!(published(&files), vec![sha256_hex(&content)]);
    let got = client
        .get(format!("{base}{}", f["content_url"].as_str().unwrap_or("")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("download")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(sha256_hex(&got), sha256_hex(&content));
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    child.wait().expect("wait");
}
