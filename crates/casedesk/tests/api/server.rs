//! The real binary: first-start bootstrap, the admin commands, `migrate`, health probes and a
//! clean exit on SIGTERM.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BIN: &str = env!("CARGO_BIN_EXE_casedesk");

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn run(db: &str, args: &[&str]) -> String {
    let out = Command::new(BIN).arg("--database-url").arg(db).args(args).output().unwrap();
    assert!(out.status.success(), "casedesk {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

pub(crate) async fn wait_ready(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = reqwest::get(format!("{base}/readyz")).await
            && r.status().is_success()
        {
            return;
        }
        assert!(Instant::now() < deadline, "server did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts `casedesk serve` over `db` on a free port, with `args` and `env` added and its output
/// piped; returns the process and its base URL once it is ready.
pub(crate) async fn serve_binary(db: &str, args: &[&str], env: &[(&str, &str)]) -> (std::process::Child, String) {
    let port = free_port();
    let child = Command::new(BIN)
        .args(["--database-url", db, "serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    (child, base)
}

#[tokio::test]
async fn serve_bootstraps_once_and_exits_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("casedesk.db");
    let db = db.to_str().unwrap();
    let env = [
        ("CASEDESK_BOOTSTRAP_TOKEN", "unattended-install-token-42"),
        ("CASEDESK_BOOTSTRAP_PASSWORD", "unattended-password"),
    ];
    let (child, base) = serve_binary(db, &[], &env).await;
    let health: Value = reqwest::get(format!("{base}/healthz")).await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    let client = reqwest::Client::new();
    let me =
        client.get(format!("{base}/api/v1/users")).bearer_auth("unattended-install-token-42").send().await.unwrap();
    assert_eq!(me.status(), 200, "the bootstrap token from the environment works");
    let users: Value = me.json().await.unwrap();
    assert_eq!(users["data"][0]["role"], "admin");

    // SIGTERM: the server stops accepting, finishes, and exits 0.
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit status {:?}; stderr: {}", out.status, String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("first start"), "{stdout}");
    assert!(!stdout.contains("unattended-install-token-42"), "a given secret is not echoed");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("unattended-install-token-42"), "no secret in a log line");
    assert!(std::path::Path::new(db).exists(), "casedesk.db was created");

    // A second start on the same database does not bootstrap again.
    let port = free_port();
    let child = Command::new(BIN)
        .args(["--database-url", db, "serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_ready(&format!("http://127.0.0.1:{port}")).await;
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("first start"));
}

#[tokio::test]
async fn generated_bootstrap_credentials_are_printed_once_and_work() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("casedesk.db");
    let port = free_port();
    let mut child = Command::new(BIN)
        .args(["--database-url", db.to_str().unwrap(), "serve", "--listen", &format!("127.0.0.1:{port}")])
        .env_remove("CASEDESK_BOOTSTRAP_TOKEN")
        .env_remove("CASEDESK_BOOTSTRAP_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    let token = stdout.lines().find_map(|l| l.trim().strip_prefix("API token: ")).expect("token printed").to_string();
    assert!(token.starts_with("cdk_"));
    assert!(stdout.lines().any(|l| l.trim().starts_with("password: ")));
    // The printed token authenticates against the same database.
    let port = free_port();
    let mut child = Command::new(BIN)
        .args(["--database-url", db.to_str().unwrap(), "serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    let r = reqwest::Client::new().get(format!("{base}/api/v1/cases")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn admin_commands_create_orgs_users_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("casedesk.db");
    let db = db.to_str().unwrap();
    assert!(run(db, &["migrate"]).contains("up to date"));
    let org = run(db, &["admin", "create-org", "--name", "Globex", "--time-zone", "Europe/Lisbon"]).trim().to_string();
    assert!(org.starts_with("org_"), "{org}");
    let out = run(db, &["admin", "create-user", "--org", &org, "--email", "hank@globex.example", "--role", "admin"]);
    let user = out.lines().next().unwrap().trim().to_string();
    assert!(user.starts_with("usr_"));
    assert!(out.contains("password: "));
    let token = run(db, &["admin", "create-token", "--user", &user]).trim().to_string();
    assert!(token.starts_with("cdk_"));
    let bad = Command::new(BIN)
        .args(["--database-url", db, "admin", "create-user", "--org", "org_missing", "--email", "x@y.example"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no such organization"));

    let port = free_port();
    let mut child = Command::new(BIN)
        .args(["--database-url", db, "--log-format", "json", "serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    let r = reqwest::Client::new().get(format!("{base}/api/v1/users")).bearer_auth(&token).send().await.unwrap();
    let users: Value = r.json().await.unwrap();
    assert_eq!(users["data"][0]["email"], "hank@globex.example");
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let first = stderr.lines().next().expect("a log line");
    let line: Value =
        serde_json::from_str(first).unwrap_or_else(|e| panic!("--log-format json writes JSON lines ({e}): {first}"));
    assert!(line.get("level").is_some());
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_request_finish() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("casedesk.db");
    let db = db.to_str().unwrap();
    let token = "drain-test-token-0123456789";
    let start = |port: u16| {
        Command::new(BIN)
            .args(["--database-url", db, "serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("CASEDESK_BOOTSTRAP_TOKEN", token)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let port = free_port();
    let child = start(port);
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;

    // An import big enough to still be running when the signal arrives.
    let cases: Vec<Value> = (0..1000)
        .map(|i| {
            serde_json::json!({
                "subject": format!("historical case {i}"),
                "description": "words ".repeat(200),
                "created_at": "2024-01-01T00:00:00Z",
                "comments": [
                    {"body": "first ".repeat(50), "created_at": "2024-01-01T01:00:00Z"},
                    {"body": "second ".repeat(50), "created_at": "2024-01-01T02:00:00Z"}
                ]
            })
        })
        .collect();
    let body = serde_json::json!({ "cases": cases }).to_string();
    let client = reqwest::Client::new();
    // Raw HTTP, so the test knows when the whole request has been handed to the server: the
    // signal must find it being handled, not still in the client's buffers (a request the
    // server has not begun to read is not in flight, and graceful shutdown rightly drops it).
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = format!(
        "POST /api/v1/imports/cases HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(body.as_bytes()).await.unwrap();
    socket.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut probe = [0u8; 1];
    let pending = matches!(socket.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
    assert!(pending, "the import is still running when the signal is sent");
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();

    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await.expect("the in-flight request gets its answer");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "the import completes: {}", &answer[..answer.len().min(300)]);
    let json_start = answer.find("\r\n\r\n").map_or(0, |i| i + 4);
    let created: Value = serde_json::from_str(&answer[json_start..]).expect("a JSON body");
    assert_eq!(created["imported"], 1000);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit status {:?}", out.status);

    // Nothing was lost: a new server on the same database sees every case.
    let port = free_port();
    let mut child = start(port);
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    let mut seen = 0;
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{base}/api/v1/cases?limit=200&cursor={c}"),
            None => format!("{base}/api/v1/cases?limit=200"),
        };
        let page: Value = client.get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap();
        seen += page["data"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, 1000);
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();
}
