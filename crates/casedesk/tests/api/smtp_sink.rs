//! A small SMTP server on loopback that the mail tests send to: it speaks the protocol's
//! plain-text core (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, with dot-stuffing), keeps every
//! message it accepts, and can refuse the first messages with a chosen reply.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::loopback::Loopback;

/// A message the sink accepted.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: Vec<u8>,
}

impl Delivered {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default().parse(&self.data).expect("the sink got a parseable message")
    }
}

#[derive(Default)]
struct State {
    got: Vec<Delivered>,
    /// Replies to DATA's end for the next messages, instead of 250.
    refusals: Vec<String>,
    /// Conversations that reached the end of DATA, accepted or not.
    attempts: usize,
}

#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    state: Arc<Mutex<State>>,
    _server: Loopback<State>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let server = Loopback::start("SMTP sink", State::default(), converse).await;
        SmtpSink { port: server.port, state: server.state.clone(), _server: server }
    }

    /// The next messages are refused with these replies (e.g. `451 4.3.0 try later`), in order.
    pub fn refuse_next(&self, replies: &[&str]) {
        self.state.lock().unwrap().refusals.extend(replies.iter().map(|r| r.to_string()));
    }

    pub fn messages(&self) -> Vec<Delivered> {
        self.state.lock().unwrap().got.clone()
    }

    pub fn attempts(&self) -> usize {
        self.state.lock().unwrap().attempts
    }

    /// Waits (up to 10 s) until `n` messages were accepted.
    pub async fn wait_for(&self, n: usize) -> Vec<Delivered> {
        let start = Instant::now();
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "the sink got {} messages, expected {n}", got.len());
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits (up to 10 s) until `n` conversations reached the end of DATA.
    pub async fn wait_for_attempts(&self, n: usize) {
        let start = Instant::now();
        while self.attempts() < n {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the sink saw {} attempts, expected {n}",
                self.attempts()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

fn address_of(arg: &str) -> String {
    let a = arg.split_once(':').map_or(arg, |(_, r)| r).trim();
    a.trim_start_matches('<').split('>').next().unwrap_or_default().to_string()
}

async fn converse(socket: tokio::net::TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    let (mut from, mut rcpt) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_string();
        let verb = cmd.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" | "HELO" => write.write_all(b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n").await?,
            "MAIL" => {
                from = address_of(&cmd);
                rcpt.clear();
                write.write_all(b"250 2.1.0 ok\r\n").await?;
            }
            "RCPT" => {
                rcpt.push(address_of(&cmd));
                write.write_all(b"250 2.1.5 ok\r\n").await?;
            }
            "DATA" => {
                write.write_all(b"354 go ahead\r\n").await?;
                let mut data = Vec::new();
                loop {
                    let mut raw = Vec::new();
                    if lines.read_until(b'\n', &mut raw).await? == 0 {
                        return Ok(());
                    }
                    if raw == b".\r\n" || raw == b".\n" {
                        break;
                    }
                    // Dot-stuffing: a leading dot was doubled by the client.
                    let body = if raw.starts_with(b"..") { &raw[1..] } else { &raw[..] };
                    data.extend_from_slice(body);
                }
                let reply = {
                    let mut s = state.lock().unwrap();
                    s.attempts += 1;
                    if s.refusals.is_empty() {
                        s.got.push(Delivered { mail_from: from.clone(), rcpt_to: rcpt.clone(), data });
                        "250 2.0.0 queued".to_string()
                    } else {
                        s.refusals.remove(0)
                    }
                };
                write.write_all(format!("{reply}\r\n").as_bytes()).await?;
            }
            "RSET" => {
                rcpt.clear();
                write.write_all(b"250 ok\r\n").await?;
            }
            "NOOP" => write.write_all(b"250 ok\r\n").await?,
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => write.write_all(b"502 5.5.2 not implemented\r\n").await?,
        }
    }
}
