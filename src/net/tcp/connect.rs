//! Opening a TCP connection under a timeout, and saying why it failed in
//! the terms `tcp check` reports: closed (refused), timeout, or an error.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

use crate::net::addr::seconds;

/// Why one connection attempt failed.
#[derive(Debug)]
pub enum ConnectFailure {
    /// The host answered that nothing listens there.
    Refused,
    /// No answer within the connect timeout (filtered, or host down).
    Timeout(Duration),
    /// Anything else: unreachable network, no route, ...
    Other(io::Error),
}

impl fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectFailure::Refused => f.write_str("connection refused"),
            ConnectFailure::Timeout(timeout) => write!(f, "no answer within {}", seconds(*timeout)),
            ConnectFailure::Other(err) => err.fmt(f),
        }
    }
}

/// Every address of a target failed.
#[derive(Debug, thiserror::Error)]
#[error("could not connect to {target}: {}", list(.attempts))]
pub struct ConnectError {
    pub target: String,
    pub attempts: Vec<(SocketAddr, ConnectFailure)>,
}

fn list(attempts: &[(SocketAddr, ConnectFailure)]) -> String {
    match attempts {
        [] => "no addresses to try".to_owned(),
        [(_, failure)] => failure.to_string(),
        many => many
            .iter()
            .map(|(addr, failure)| format!("{addr} {failure}"))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// One attempt to one address.
pub async fn attempt(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, ConnectFailure> {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Err(_) => Err(ConnectFailure::Timeout(timeout)),
        Ok(Err(err)) if err.kind() == io::ErrorKind::ConnectionRefused => {
            Err(ConnectFailure::Refused)
        }
        Ok(Err(err)) => Err(ConnectFailure::Other(err)),
        Ok(Ok(stream)) => Ok(stream),
    }
}

/// Tries the addresses in order (a name may resolve to IPv6 and IPv4),
/// each with its own timeout, and returns the first connection made.
pub async fn connect_any(
    target: &str,
    addrs: &[SocketAddr],
    timeout: Duration,
) -> Result<(TcpStream, SocketAddr), ConnectError> {
    let mut attempts = Vec::new();
    for addr in addrs {
        match attempt(*addr, timeout).await {
            Ok(stream) => return Ok((stream, *addr)),
            Err(failure) => attempts.push((*addr, failure)),
        }
    }
    Err(ConnectError {
        target: target.to_owned(),
        attempts,
    })
}
