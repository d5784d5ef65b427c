//! What the servers report while they run (listening, one line per
//! connection or datagram, capacity, shutdown) and where it goes. Servers
//! take a [`ServerLog`] instead of printing, so the CLI sends the events
//! to the process's logs (`tracing`: text or JSON lines on stderr, like
//! every other diagnostic) and tests collect the events and assert on them.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::addr::seconds;

/// The transport a line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        })
    }
}

/// How a connection (or a datagram exchange) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionEnd {
    /// The client closed its side and everything owed was sent.
    ClientClosed,
    /// The server said what it had to say and closed (daytime, UDP).
    Answered,
    /// Nothing moved for the idle timeout.
    IdleTimeout,
    /// Still open when the shutdown deadline passed.
    Shutdown,
    /// A network error, with its message.
    Failed(String),
}

impl fmt::Display for ConnectionEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionEnd::ClientClosed => f.write_str("client-closed"),
            ConnectionEnd::Answered => f.write_str("answered"),
            ConnectionEnd::IdleTimeout => f.write_str("idle-timeout"),
            ConnectionEnd::Shutdown => f.write_str("shutdown"),
            ConnectionEnd::Failed(reason) => write!(f, "error ({reason})"),
        }
    }
}

/// One served connection, or one answered datagram for UDP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRecord {
    pub proto: Proto,
    pub peer: SocketAddr,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub duration: Duration,
    pub end: ConnectionEnd,
}

/// `tcp 127.0.0.1:50312 in=12 out=12 duration_ms=0.4 end=client-closed`:
/// key=value so that the lines stay easy to grep and split.
impl fmt::Display for ConnectionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} in={} out={} duration_ms={:.1} end={}",
            self.proto,
            self.peer,
            self.bytes_in,
            self.bytes_out,
            self.duration.as_secs_f64() * 1000.0,
            self.end
        )
    }
}

/// Everything a server reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    Listening {
        proto: Proto,
        addr: SocketAddr,
        what: String,
    },
    Connection(ConnectionRecord),
    /// New connections wait in the system's backlog until one closes.
    AtCapacity {
        max_conns: usize,
    },
    /// Accepting or receiving failed; the server goes on.
    ReceiveFailed {
        proto: Proto,
        reason: String,
    },
    /// Shutdown began; `open` connections get until the deadline.
    Draining {
        open: usize,
        deadline: Duration,
    },
    Stopped {
        proto: Proto,
        addr: SocketAddr,
    },
}

impl fmt::Display for ServerEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerEvent::Listening { proto, addr, what } => {
                write!(f, "listening on {proto} {addr} ({what})")
            }
            ServerEvent::Connection(record) => record.fmt(f),
            ServerEvent::AtCapacity { max_conns } => write!(
                f,
                "{max_conns} connections open (--max-conns); new ones wait until one closes"
            ),
            ServerEvent::ReceiveFailed { proto, reason } => {
                let what = match proto {
                    Proto::Tcp => "accepting a tcp connection",
                    Proto::Udp => "receiving a udp datagram",
                };
                write!(f, "{what} failed: {reason}; going on")
            }
            ServerEvent::Draining { open, deadline } => write!(
                f,
                "shutting down: stopped accepting, waiting up to {} for {open} open connection(s)",
                seconds(*deadline)
            ),
            ServerEvent::Stopped { proto, addr } => write!(f, "stopped {proto} {addr}"),
        }
    }
}

/// Where server events go. Cheap to clone: every connection task holds one.
#[derive(Clone)]
pub struct ServerLog(Arc<dyn Fn(&ServerEvent) + Send + Sync>);

impl ServerLog {
    pub fn new(write: impl Fn(&ServerEvent) + Send + Sync + 'static) -> Self {
        Self(Arc::new(write))
    }

    /// One log event per server event: what the CLI uses.
    pub fn tracing() -> Self {
        Self::new(log_event)
    }

    /// Drops every event.
    pub fn silent() -> Self {
        Self::new(|_| {})
    }

    pub fn event(&self, event: ServerEvent) {
        (self.0)(&event);
    }

    pub fn connection(&self, record: ConnectionRecord) {
        self.event(ServerEvent::Connection(record));
    }
}

/// A server event as an `info` event (a failure as `warn`), its parts as
/// fields: a connection is `connection proto=tcp peer=127.0.0.1:50312
/// bytes_in=12 bytes_out=12 duration_ms=0.4 end="client-closed"` in text
/// (strings quoted, so that a value with spaces stays one field),
/// the same keys in JSON. The log writer never panics on a closed stderr:
/// losing a log line must not bring a server down.
fn log_event(event: &ServerEvent) {
    match event {
        ServerEvent::Connection(c) => tracing::info!(
            proto = %c.proto,
            peer = %c.peer,
            bytes_in = c.bytes_in,
            bytes_out = c.bytes_out,
            duration_ms = (c.duration.as_secs_f64() * 10_000.0).round() / 10.0,
            end = c.end.to_string().as_str(),
            "connection"
        ),
        ServerEvent::Listening { proto, addr, what } => {
            tracing::info!(proto = %proto, addr = %addr, what = what.as_str(), "{event}");
        }
        ServerEvent::ReceiveFailed { proto, reason } => {
            tracing::warn!(proto = %proto, reason = reason.as_str(), "{event}");
        }
        ServerEvent::AtCapacity { max_conns } => tracing::warn!(max_conns, "{event}"),
        ServerEvent::Draining { open, deadline } => {
            tracing::info!(open, deadline_ms = deadline.as_millis() as u64, "{event}")
        }
        ServerEvent::Stopped { proto, addr } => {
            tracing::info!(proto = %proto, addr = %addr, "{event}");
        }
    }
}

impl fmt::Debug for ServerLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerLog")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_line_is_key_value() {
        let record = ConnectionRecord {
            proto: Proto::Tcp,
            peer: "127.0.0.1:50312".parse().expect("valid"),
            bytes_in: 12,
            bytes_out: 7,
            duration: Duration::from_micros(2500),
            end: ConnectionEnd::Failed("connection reset".to_owned()),
        };
        assert_eq!(
            record.to_string(),
            "tcp 127.0.0.1:50312 in=12 out=7 duration_ms=2.5 end=error (connection reset)"
        );
    }

    #[test]
    fn draining_line_names_deadline() {
        let event = ServerEvent::Draining {
            open: 2,
            deadline: Duration::from_millis(1500),
        };
        assert_eq!(
            event.to_string(),
            "shutting down: stopped accepting, waiting up to 1.5s for 2 open connection(s)"
        );
    }
}
