//! The IMAP client polled mailboxes are read with: async-imap over TCP, with TLS from the first
//! byte or after STARTTLS by rustls (ring) and the Mozilla roots — the TLS stack lettre and
//! reqwest already use, so no OpenSSL. Every step has a timeout, so a server that stops
//! answering holds a poll (and its lease) only that long.

use std::sync::Arc;
use std::time::Duration;

use async_imap::imap_proto::{AttributeValue, MailboxDatum, Response, Status};
use async_imap::{Client, Session};
use casedesk_core::imap::{ImapClient, ImapLogin, ImapSession};
use casedesk_core::webhooks::BoxFuture;
use casedesk_domain::imap::ImapSecurity;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// A connection, plain or TLS.
trait Conn: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Conn for T {}

pub struct AsyncImapClient {
    /// How long each step (connecting, the handshake, each command) may take.
    timeout: Duration,
    tls: TlsConnector,
}

impl AsyncImapClient {
    pub fn new(timeout: Duration) -> anyhow::Result<Self> {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self { timeout, tls: TlsConnector::from(Arc::new(config)) })
    }

    async fn step<T, E: std::fmt::Display>(
        &self,
        doing: &str,
        f: impl Future<Output = Result<T, E>>,
    ) -> Result<T, String> {
        within(self.timeout, doing, f).await
    }

    async fn secure(&self, host: &str, tcp: TcpStream) -> Result<Box<dyn Conn>, String> {
        let name = ServerName::try_from(host.to_string()).map_err(|e| format!("{host} is not a server name: {e}"))?;
        let tls = self.step("the TLS handshake", self.tls.connect(name, tcp)).await?;
        Ok(Box::new(tls))
    }

    async fn connect(&self, login: &ImapLogin) -> Result<PolledSession, String> {
        let host = login.host.as_str();
        let tcp =
            self.step(&format!("connecting to {host}:{}", login.port), TcpStream::connect((host, login.port))).await?;
        let conn: Box<dyn Conn> = match login.security {
            ImapSecurity::None => Box::new(tcp),
            ImapSecurity::Tls => self.secure(host, tcp).await?,
            ImapSecurity::Starttls => {
                let mut plain = Client::new(tcp);
                greeting(&mut plain, self.timeout).await?;
                self.step("STARTTLS", plain.run_command_and_check_ok("STARTTLS", None)).await?;
                self.secure(host, plain.into_inner()).await?
            }
        };
        let mut client = Client::new(conn);
        // After STARTTLS the server sends no second greeting.
        if login.security != ImapSecurity::Starttls {
            greeting(&mut client, self.timeout).await?;
        }
        let mut session = match tokio::time::timeout(self.timeout, client.login(&login.username, &login.password)).await
        {
            Err(_) => return Err("logging in: timed out".into()),
            Ok(Err((e, _))) => return Err(format!("logging in as {}: {e}", login.username)),
            Ok(Ok(s)) => s,
        };
        let folder = self.step(&format!("selecting {}", login.folder), session.select(&login.folder)).await?;
        let uid_validity =
            folder.uid_validity.ok_or_else(|| format!("the server named no UIDVALIDITY for {}", login.folder))?;
        Ok(PolledSession { session, uid_validity, uid_next: folder.uid_next, timeout: self.timeout })
    }
}

async fn within<T, E: std::fmt::Display>(
    timeout: Duration,
    doing: &str,
    f: impl Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(timeout, f).await {
        Err(_) => Err(format!("{doing}: timed out after {} s", timeout.as_secs())),
        Ok(Err(e)) => Err(format!("{doing}: {e}")),
        Ok(Ok(v)) => Ok(v),
    }
}

/// Reads the server's greeting.
async fn greeting<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug>(
    client: &mut Client<T>,
    timeout: Duration,
) -> Result<(), String> {
    match within(timeout, "reading the greeting", client.read_response()).await? {
        Some(_) => Ok(()),
        None => Err("the server closed the connection before greeting".into()),
    }
}

impl ImapClient for AsyncImapClient {
    fn open<'a>(&'a self, login: &'a ImapLogin) -> BoxFuture<'a, Result<Box<dyn ImapSession>, String>> {
        Box::pin(async move { Ok(Box::new(self.connect(login).await?) as Box<dyn ImapSession>) })
    }
}

struct PolledSession {
    session: Session<Box<dyn Conn>>,
    uid_validity: u32,
    uid_next: Option<u32>,
    timeout: Duration,
}

impl PolledSession {
    /// Runs a command and reads its answers up to its own tagged status, which must be OK,
    /// handing every other answer to `each`. async-imap's own readers for SEARCH, FETCH and
    /// STORE end quietly on a NO or on a lost connection, which would look like "nothing new".
    async fn command(&mut self, command: &str, mut each: impl FnMut(&Response<'_>) + Send) -> Result<(), String> {
        let read = async {
            let tag = self.session.run_command(command).await.map_err(|e| e.to_string())?;
            loop {
                let answer = self
                    .session
                    .read_response()
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| "the server closed the connection".to_string())?;
                match answer.parsed() {
                    Response::Done { tag: done, status, information, .. } if *done == tag => {
                        return match status {
                            Status::Ok => Ok(()),
                            other => Err(format!("{other:?} {}", information.as_deref().unwrap_or(""))),
                        };
                    }
                    other => each(other),
                }
            }
        };
        match tokio::time::timeout(self.timeout, read).await {
            Err(_) => Err(format!("timed out after {} s", self.timeout.as_secs())),
            Ok(r) => r,
        }
    }
}

impl ImapSession for PolledSession {
    fn uid_validity(&self) -> u32 {
        self.uid_validity
    }

    fn uid_next(&self) -> Option<u32> {
        self.uid_next
    }

    fn search<'a>(&'a mut self, criteria: &'a str) -> BoxFuture<'a, Result<Vec<u32>, String>> {
        Box::pin(async move {
            let mut found = Vec::new();
            self.command(&format!("UID SEARCH {criteria}"), |r| {
                if let Response::MailboxData(MailboxDatum::Search(ids)) = r {
                    found.extend_from_slice(ids);
                }
            })
            .await
            .map_err(|e| format!("searching: {e}"))?;
            Ok(found)
        })
    }

    fn fetch(&mut self, uid: u32) -> BoxFuture<'_, Result<Option<Vec<u8>>, String>> {
        Box::pin(async move {
            let mut body = None;
            self.command(&format!("UID FETCH {uid} (UID BODY.PEEK[])"), |r| {
                if let Response::Fetch(_, attributes) = r {
                    let this = attributes.iter().all(|a| !matches!(a, AttributeValue::Uid(u) if *u != uid));
                    for a in attributes {
                        if let AttributeValue::BodySection { data: Some(d), .. } | AttributeValue::Rfc822(Some(d)) = a
                            && this
                        {
                            body = Some(d.to_vec());
                        }
                    }
                }
            })
            .await
            .map_err(|e| format!("fetching the message with UID {uid}: {e}"))?;
            Ok(body)
        })
    }

    fn mark_seen(&mut self, uid: u32) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.command(&format!("UID STORE {uid} +FLAGS (\\Seen)"), |_| {})
                .await
                .map_err(|e| format!("setting \\Seen: {e}"))
        })
    }

    fn logout(mut self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let _ = tokio::time::timeout(self.timeout, self.session.logout()).await;
        })
    }
}
