//! What the protocol servers the tests talk to (`smtp_sink`, `imap_server`) share: a listener on
//! a free loopback port, one task per connection, and state behind a mutex that tests read.

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};

/// A server on loopback, holding the state its conversations share.
pub struct Loopback<S> {
    pub port: u16,
    pub state: Arc<Mutex<S>>,
    _task: Arc<tokio::task::JoinHandle<()>>,
}

impl<S> Clone for Loopback<S> {
    fn clone(&self) -> Self {
        Loopback { port: self.port, state: self.state.clone(), _task: self._task.clone() }
    }
}

impl<S: Send + 'static> Loopback<S> {
    /// Listens on a free port and runs `converse` for each connection.
    pub async fn start<F, Fut>(what: &str, state: S, converse: F) -> Loopback<S>
    where
        F: Fn(TcpStream, Arc<Mutex<S>>) -> Fut + Send + 'static,
        Fut: Future<Output = std::io::Result<()>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind the {what}: {e}"));
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(Mutex::new(state));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let conversation = converse(socket, shared.clone());
                tokio::spawn(async move {
                    let _ = conversation.await;
                });
            }
        });
        Loopback { port, state, _task: Arc::new(task) }
    }
}
