//! A small IMAP server on loopback that the IMAP tests poll: one account and one folder, over
//! plain TCP, speaking enough IMAP4rev1 for a client that logs in, selects, searches, fetches,
//! flags and logs out (greeting, CAPABILITY, NOOP, LOGIN, SELECT/EXAMINE, UID SEARCH, UID FETCH,
//! UID STORE, LOGOUT). It keeps count of what clients did, so tests can see how they behaved.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::loopback::Loopback;

/// A message in the folder.
#[derive(Debug, Clone)]
pub struct Stored {
    pub uid: u32,
    pub seen: bool,
    pub raw: Vec<u8>,
}

#[derive(Debug, Default)]
struct State {
    username: String,
    password: String,
    folder: String,
    uid_validity: u32,
    next_uid: u32,
    messages: Vec<Stored>,
    /// Successful and refused LOGINs.
    logins: usize,
    refused_logins: usize,
    /// Sessions logged in now, and the most there ever were at once.
    open: usize,
    most_open: usize,
    /// Each UID FETCH of a message's body, by UID.
    fetched: Vec<u32>,
    /// Every command line received (LOGIN's arguments included, to look for leaks in the other
    /// direction too).
    commands: Vec<String>,
    /// Answer UID STORE with NO (a server that will not set flags).
    refuse_store: bool,
    /// Hang up on UID FETCH (a server or network failing mid-session).
    hang_up_on_fetch: bool,
}

#[derive(Clone)]
pub struct ImapServer {
    pub port: u16,
    state: Arc<Mutex<State>>,
    _server: Loopback<State>,
}

impl ImapServer {
    /// A server with one account and one (empty) folder.
    pub async fn start(username: &str, password: &str, folder: &str) -> ImapServer {
        let state = State {
            username: username.into(),
            password: password.into(),
            folder: folder.into(),
            uid_validity: 1_700_000_001,
            next_uid: 1,
            ..State::default()
        };
        let server = Loopback::start("IMAP server", state, converse).await;
        ImapServer { port: server.port, state: server.state.clone(), _server: server }
    }

    /// Delivers a message into the folder (unseen); answers its UID.
    pub fn deliver(&self, raw: &str) -> u32 {
        self.deliver_as(raw, false)
    }

    /// Delivers a message someone has read already (in another mail program).
    pub fn deliver_read(&self, raw: &str) -> u32 {
        self.deliver_as(raw, true)
    }

    fn deliver_as(&self, raw: &str, seen: bool) -> u32 {
        let mut s = self.state.lock().unwrap();
        let uid = s.next_uid;
        s.next_uid += 1;
        s.messages.push(Stored { uid, seen, raw: raw.replace('\n', "\r\n").into_bytes() });
        uid
    }

    /// Marks a message read, as another mail program would.
    pub fn set_seen(&self, uid: u32, seen: bool) {
        let mut s = self.state.lock().unwrap();
        if let Some(m) = s.messages.iter_mut().find(|m| m.uid == uid) {
            m.seen = seen;
        }
    }

    /// Renumbers the folder, as a server rebuilding its index does: a new UIDVALIDITY, new UIDs
    /// from 1, and (the worst case) every message unread again.
    pub fn renumber(&self) {
        let mut s = self.state.lock().unwrap();
        s.uid_validity += 1;
        s.next_uid = 1;
        let mut messages = std::mem::take(&mut s.messages);
        for m in &mut messages {
            m.uid = s.next_uid;
            m.seen = false;
            s.next_uid += 1;
        }
        s.messages = messages;
        s.fetched.clear();
    }

    pub fn messages(&self) -> Vec<Stored> {
        self.state.lock().unwrap().messages.clone()
    }

    pub fn logins(&self) -> usize {
        self.state.lock().unwrap().logins
    }

    pub fn refused_logins(&self) -> usize {
        self.state.lock().unwrap().refused_logins
    }

    pub fn most_open(&self) -> usize {
        self.state.lock().unwrap().most_open
    }

    pub fn fetched(&self) -> Vec<u32> {
        self.state.lock().unwrap().fetched.clone()
    }

    pub fn commands(&self) -> Vec<String> {
        self.state.lock().unwrap().commands.clone()
    }

    pub fn refuse_store(&self, refuse: bool) {
        self.state.lock().unwrap().refuse_store = refuse;
    }

    pub fn hang_up_on_fetch(&self, hang_up: bool) {
        self.state.lock().unwrap().hang_up_on_fetch = hang_up;
    }

    /// Waits (up to 20 s) until `done` holds for the server's state.
    pub async fn wait_for(&self, what: &str, done: impl Fn(&ImapServer) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done(self) {
            assert!(Instant::now() < deadline, "the IMAP server never saw: {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The words of a command line: atoms, quoted strings (unescaped) and parenthesised lists kept
/// whole.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c == ' ' {
            chars.next();
            continue;
        }
        let mut w = String::new();
        if c == '"' {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => w.extend(chars.next()),
                    '"' => break,
                    c => w.push(c),
                }
            }
        } else if c == '(' {
            let mut depth = 0;
            for c in chars.by_ref() {
                w.push(c);
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                if depth == 0 {
                    break;
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ' ' {
                    break;
                }
                w.push(c);
                chars.next();
            }
        }
        out.push(w);
    }
    out
}

/// The UIDs a set such as `3`, `2:5`, `4:*` or `1,3` names, among those in the folder.
fn uid_set(set: &str, uids: &[u32]) -> Vec<u32> {
    let max = uids.iter().copied().max().unwrap_or(0);
    let mut out = Vec::new();
    for part in set.split(',') {
        let bound = |s: &str| if s == "*" { max } else { s.parse().unwrap_or(0) };
        let (a, b) = match part.split_once(':') {
            Some((a, b)) => (bound(a), bound(b)),
            None => (bound(part), bound(part)),
        };
        let (lo, hi) = (a.min(b), a.max(b));
        out.extend(uids.iter().copied().filter(|u| *u >= lo && *u <= hi));
    }
    out.sort_unstable();
    out.dedup();
    out
}

async fn converse(socket: tokio::net::TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"* OK [CAPABILITY IMAP4rev1] casedesk test IMAP server ready\r\n").await?;
    let mut logged_in = false;
    let mut selected = false;
    let result = async {
        loop {
            let mut line = String::new();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let line = line.trim_end_matches(['\r', '\n']).to_string();
            state.lock().unwrap().commands.push(line.clone());
            let w = words(&line);
            let (Some(tag), Some(cmd)) = (w.first(), w.get(1)) else {
                write.write_all(b"* BAD empty command\r\n").await?;
                continue;
            };
            let cmd = cmd.to_ascii_uppercase();
            let mut out = String::new();
            let mut literal: Vec<u8> = Vec::new();
            match cmd.as_str() {
                "CAPABILITY" => out.push_str(&format!("* CAPABILITY IMAP4rev1\r\n{tag} OK done\r\n")),
                "NOOP" => out.push_str(&format!("{tag} OK done\r\n")),
                "LOGOUT" => {
                    // Counted closed before the answer, so a client polling right after it
                    // never looks like a second session at once.
                    if logged_in {
                        state.lock().unwrap().open -= 1;
                        logged_in = false;
                    }
                    write.write_all(format!("* BYE bye\r\n{tag} OK done\r\n").as_bytes()).await?;
                    return Ok(());
                }
                "LOGIN" => {
                    let mut s = state.lock().unwrap();
                    if w.get(2) == Some(&s.username) && w.get(3) == Some(&s.password) {
                        s.logins += 1;
                        s.open += 1;
                        s.most_open = s.most_open.max(s.open);
                        logged_in = true;
                        out.push_str(&format!("{tag} OK [CAPABILITY IMAP4rev1] logged in\r\n"));
                    } else {
                        s.refused_logins += 1;
                        out.push_str(&format!("{tag} NO [AUTHENTICATIONFAILED] Invalid credentials\r\n"));
                    }
                }
                "SELECT" | "EXAMINE" if logged_in => {
                    let s = state.lock().unwrap();
                    if w.get(2).is_some_and(|f| f.eq_ignore_ascii_case(&s.folder)) {
                        selected = true;
                        out.push_str(&format!(
                            "* {} EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)\r\n\
                             * OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)] flags\r\n\
                             * OK [UIDVALIDITY {}] UIDs valid\r\n* OK [UIDNEXT {}] next\r\n{tag} OK [READ-WRITE] selected\r\n",
                            s.messages.len(),
                            s.uid_validity,
                            s.next_uid
                        ));
                    } else {
                        out.push_str(&format!("{tag} NO [NONEXISTENT] no such folder\r\n"));
                    }
                }
                "UID" if selected => {
                    let sub = w.get(2).map(|s| s.to_ascii_uppercase()).unwrap_or_default();
                    let mut s = state.lock().unwrap();
                    let uids: Vec<u32> = s.messages.iter().map(|m| m.uid).collect();
                    let seq_of = |uid: u32| uids.iter().position(|u| *u == uid).map_or(0, |p| p + 1);
                    match sub.as_str() {
                        "SEARCH" => {
                            let criteria: Vec<String> = w[3..].iter().map(|c| c.to_ascii_uppercase()).collect();
                            let found: Option<Vec<u32>> = match criteria.iter().map(String::as_str).collect::<Vec<_>>()[..] {
                                ["UNSEEN"] => Some(s.messages.iter().filter(|m| !m.seen).map(|m| m.uid).collect()),
                                ["ALL"] => Some(uids.clone()),
                                ["UID", set] => {
                                    // RFC 3501: `n:*` always names the last message, even below n.
                                    let mut f = uid_set(set, &uids);
                                    if f.is_empty() && set.ends_with(":*") {
                                        f.extend(uids.last());
                                    }
                                    Some(f)
                                }
                                _ => None,
                            };
                            match found {
                                Some(found) => {
                                    let list: Vec<String> = found.iter().map(u32::to_string).collect();
                                    let line = format!("* SEARCH {}", list.join(" "));
                                    out.push_str(&format!("{}\r\n{tag} OK done\r\n", line.trim_end()));
                                }
                                None => out.push_str(&format!("{tag} BAD unsupported search\r\n")),
                            }
                        }
                        "FETCH" if s.hang_up_on_fetch => return Ok(()),
                        "FETCH" => {
                            let set = w.get(3).cloned().unwrap_or_default();
                            let items = w[4..].join(" ").to_ascii_uppercase();
                            for uid in uid_set(&set, &uids) {
                                let m = s.messages.iter().find(|m| m.uid == uid).cloned().expect("listed");
                                if items.contains("BODY.PEEK[]") || items.contains("RFC822") || items.contains("BODY[]") {
                                    s.fetched.push(uid);
                                    out.push_str(&format!("* {} FETCH (UID {uid} BODY[] {{{}}}\r\n", seq_of(uid), m.raw.len()));
                                    literal.extend_from_slice(out.as_bytes());
                                    literal.extend_from_slice(&m.raw);
                                    literal.extend_from_slice(b")\r\n");
                                    out.clear();
                                } else {
                                    let flags = if m.seen { "\\Seen" } else { "" };
                                    out.push_str(&format!("* {} FETCH (UID {uid} FLAGS ({flags}))\r\n", seq_of(uid)));
                                }
                            }
                            out.push_str(&format!("{tag} OK done\r\n"));
                        }
                        "STORE" => {
                            if s.refuse_store {
                                out.push_str(&format!("{tag} NO cannot store flags now\r\n"));
                            } else {
                                let set = w.get(3).cloned().unwrap_or_default();
                                let what = w.get(4).map(|x| x.to_ascii_uppercase()).unwrap_or_default();
                                let flags = w.get(5).cloned().unwrap_or_default();
                                for uid in uid_set(&set, &uids) {
                                    let seq = seq_of(uid);
                                    let m = s.messages.iter_mut().find(|m| m.uid == uid).expect("listed");
                                    if flags.contains("\\Seen") {
                                        m.seen = what.starts_with('+');
                                    }
                                    if !what.contains(".SILENT") {
                                        let f = if m.seen { "\\Seen" } else { "" };
                                        out.push_str(&format!("* {seq} FETCH (UID {uid} FLAGS ({f}))\r\n"));
                                    }
                                }
                                out.push_str(&format!("{tag} OK done\r\n"));
                            }
                        }
                        _ => out.push_str(&format!("{tag} BAD unsupported UID command\r\n")),
                    }
                }
                "CLOSE" | "UNSELECT" if selected => {
                    selected = false;
                    out.push_str(&format!("{tag} OK done\r\n"));
                }
                _ => out.push_str(&format!("{tag} BAD unsupported or not now\r\n")),
            }
            if !literal.is_empty() {
                write.write_all(&literal).await?;
            }
            write.write_all(out.as_bytes()).await?;
        }
    }
    .await;
    if logged_in {
        state.lock().unwrap().open -= 1;
    }
    result
}
