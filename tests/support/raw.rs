//! A raw HTTP/1.1 server for faults a well-behaved server library will not
//! produce: header bytes that are not ASCII, a connection closed after
//! one answer without saying so, a body cut short. Each connection's
//! requests are answered by `answer(path, nth_request_on_server)`, which
//! returns the bytes to write and what to do next.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// What the connection does after writing an answer.
pub enum Then {
    /// Wait for the next request on the same connection.
    KeepAlive,
    /// Read the next request, then close without answering (a server that
    /// closed its idle connection just as the request arrived).
    CloseOnNext,
    /// Close at once.
    Close,
}

pub type Answer = Arc<dyn Fn(&str, usize) -> (Vec<u8>, Then) + Send + Sync>;

pub struct RawServer {
    pub addr: SocketAddr,
    /// Request paths in arrival order, with the connection number.
    pub log: Arc<Mutex<Vec<(usize, String)>>>,
    stop: CancellationToken,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// `HTTP/1.1 STATUS` with `headers` (raw bytes) and `body`.
pub fn response(status: &str, headers: &[&[u8]], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len()).into_bytes();
    for h in headers {
        out.extend_from_slice(h);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

impl RawServer {
    pub async fn start(answer: Answer) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let log: Arc<Mutex<Vec<(usize, String)>>> = Arc::default();
        let stop = CancellationToken::new();
        let (l, s) = (log.clone(), stop.clone());
        tokio::spawn(async move {
            let requests = Arc::new(AtomicUsize::new(0));
            let mut conn_no = 0;
            loop {
                let (mut sock, _) = tokio::select! {
                    r = listener.accept() => match r { Ok(c) => c, Err(_) => return },
                    () = s.cancelled() => return,
                };
                conn_no += 1;
                let (answer, log, requests, conn) =
                    (answer.clone(), l.clone(), requests.clone(), conn_no);
                tokio::spawn(async move {
                    let mut close_on_next = false;
                    loop {
                        let Some(path) = read_head(&mut sock).await else {
                            return;
                        };
                        if close_on_next {
                            return;
                        }
                        log.lock().expect("log").push((conn, path.clone()));
                        let nth = requests.fetch_add(1, Ordering::SeqCst);
                        let (bytes, then) = answer(&path, nth);
                        if sock.write_all(&bytes).await.is_err() {
                            return;
                        }
                        match then {
                            Then::KeepAlive => {}
                            Then::CloseOnNext => close_on_next = true,
                            Then::Close => return,
                        }
                    }
                });
            }
        });
        Self { addr, log, stop }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn paths(&self) -> Vec<String> {
        self.log
            .lock()
            .expect("log")
            .iter()
            .map(|(_, p)| p.clone())
            .collect()
    }

    /// How many connections carried requests.
    pub fn connections(&self) -> usize {
        let log = self.log.lock().expect("log");
        let mut conns: Vec<usize> = log.iter().map(|(c, _)| *c).collect();
        conns.dedup();
        conns.len()
    }
}

/// Reads one request head; its path, or `None` at end of stream.
async fn read_head(sock: &mut tokio::net::TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match sock.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
        if head.len() > 64 * 1024 {
            return None;
        }
    }
    let line = String::from_utf8_lossy(&head);
    line.split_whitespace().nth(1).map(str::to_string)
}
