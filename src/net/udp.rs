//! The UDP tools: `udp serve` answers each datagram (echo or a fixed
//! reply), `udp send` sends one datagram and waits for the answer, sending
//! again on silence because UDP loses packets. The datagram loop here also
//! serves daytime over UDP.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::addr::seconds;
use super::log::{ConnectionEnd, ConnectionRecord, Proto, ServerEvent, ServerLog};

/// Largest UDP payload over IPv4: 65535 minus the 8-byte UDP and 20-byte
/// IPv4 headers.
pub const MAX_PAYLOAD_V4: usize = 65_507;
/// Largest UDP payload over IPv6 without jumbograms: 65535 minus the UDP
/// header (the IPv6 header is not counted in its payload length).
pub const MAX_PAYLOAD_V6: usize = 65_527;

/// Receive buffer: one byte more than any datagram can carry.
const RECEIVE_BYTES: usize = 65_536;

/// An answer that cannot be sent at once (full socket buffer) is dropped
/// after this, as UDP would drop it anyway.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(1);

/// Pause after a failed receive, so a lasting error does not spin.
const RECEIVE_BACKOFF: Duration = Duration::from_millis(100);

/// The largest payload one datagram to `addr` can carry.
pub fn max_payload(addr: SocketAddr) -> usize {
    match addr {
        SocketAddr::V4(_) => MAX_PAYLOAD_V4,
        SocketAddr::V6(_) => MAX_PAYLOAD_V6,
    }
}

/// Refuses a payload that does not fit one datagram to `addr`: UDP has
/// no way to split it, and the system would fail the send or fragment it.
pub fn check_payload(len: usize, addr: SocketAddr) -> Result<(), UdpSendError> {
    let max = max_payload(addr);
    if len > max {
        return Err(UdpSendError::TooLarge { len, max, addr });
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UdpServeMode {
    /// Sends each datagram back to its sender.
    Echo,
    /// Answers every datagram with these bytes.
    Reply(Vec<u8>),
}

/// Totals over a UDP server's life.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct UdpServeStats {
    pub datagrams: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

/// Answers datagrams on `socket` until `shutdown`.
pub async fn serve_udp(
    socket: UdpSocket,
    mode: UdpServeMode,
    log: ServerLog,
    shutdown: CancellationToken,
) -> UdpServeStats {
    answer_datagrams(socket, log, shutdown, move |payload| match &mode {
        UdpServeMode::Echo => payload.to_vec(),
        UdpServeMode::Reply(text) => text.clone(),
    })
    .await
}

/// Receives datagrams until `shutdown` and sends each sender what
/// `answer` makes of its datagram; one log line per datagram.
pub async fn answer_datagrams(
    socket: UdpSocket,
    log: ServerLog,
    shutdown: CancellationToken,
    mut answer: impl FnMut(&[u8]) -> Vec<u8>,
) -> UdpServeStats {
    let mut stats = UdpServeStats::default();
    let mut buf = vec![0; RECEIVE_BYTES];
    loop {
        let received = tokio::select! {
            biased; // shutdown wins over work that is ready too
            () = shutdown.cancelled() => break,
            received = socket.recv_from(&mut buf) => received,
        };
        let (read, peer) = match received {
            Ok(received) => received,
            Err(err) => {
                log.event(ServerEvent::ReceiveFailed {
                    proto: Proto::Udp,
                    reason: err.to_string(),
                });
                tokio::select! {
                    biased;
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(RECEIVE_BACKOFF) => continue,
                }
            }
        };
        let started = Instant::now();
        let reply = answer(buf.get(..read).unwrap_or_default());
        let sent = tokio::time::timeout(ANSWER_TIMEOUT, socket.send_to(&reply, peer)).await;
        let (bytes_out, end) = match sent {
            Ok(Ok(sent)) => (sent as u64, ConnectionEnd::Answered),
            Ok(Err(err)) => (0, ConnectionEnd::Failed(err.to_string())),
            Err(_) => (
                0,
                ConnectionEnd::Failed("answer not sent in time".to_owned()),
            ),
        };
        stats.datagrams += 1;
        stats.bytes_in += read as u64;
        stats.bytes_out += bytes_out;
        log.connection(ConnectionRecord {
            proto: Proto::Udp,
            peer,
            bytes_in: read as u64,
            bytes_out,
            duration: started.elapsed(),
            end,
        });
    }
    if let Ok(addr) = socket.local_addr() {
        log.event(ServerEvent::Stopped {
            proto: Proto::Udp,
            addr,
        });
    }
    stats
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpSendOptions {
    /// How long to wait for an answer to each datagram.
    pub timeout: Duration,
    /// How many times to send again after a wait with no answer.
    pub retries: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpAnswer {
    pub from: SocketAddr,
    pub payload: Vec<u8>,
    /// Datagrams sent, counting the first.
    pub attempts: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UdpSendOutcome {
    Answered(UdpAnswer),
    /// The shutdown token fired (Ctrl-C).
    Interrupted,
}

#[derive(Debug, thiserror::Error)]
pub enum UdpSendError {
    #[error(
        "the message is {len} bytes, more than one UDP datagram to {addr} can carry \
         ({max} bytes); send a shorter one or use tcp"
    )]
    TooLarge {
        len: usize,
        max: usize,
        addr: SocketAddr,
    },
    #[error(
        "no answer from udp {addr} after {attempts} datagram(s), waiting {} for each; \
         the server may be down or the datagrams lost (see --timeout and --retries)",
        seconds(*.timeout)
    )]
    NoAnswer {
        addr: SocketAddr,
        attempts: u32,
        timeout: Duration,
    },
    #[error("udp {addr} refused the datagram: nothing listens on that port")]
    Refused { addr: SocketAddr },
    #[error("udp exchange with {addr} failed: {source}")]
    Io {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
}

impl UdpSendError {
    fn from_io(addr: SocketAddr, len: usize, source: io::Error) -> Self {
        if source.raw_os_error() == Some(EMSGSIZE) {
            return UdpSendError::TooLarge {
                len,
                max: max_payload(addr),
                addr,
            };
        }
        match source.kind() {
            io::ErrorKind::ConnectionRefused => UdpSendError::Refused { addr },
            _ => UdpSendError::Io { addr, source },
        }
    }
}

/// The system's error for a datagram it cannot carry; std has no
/// `ErrorKind` for it.
#[cfg(any(target_os = "linux", target_os = "android"))]
const EMSGSIZE: i32 = 90;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const EMSGSIZE: i32 = 40;

/// Sends `payload` to `addr` and returns the first datagram that comes
/// back; sends it again after each `timeout` without one, `retries` times.
/// `on_retry(attempt, attempts)` is told before each resend.
pub async fn request_udp(
    addr: SocketAddr,
    payload: &[u8],
    options: UdpSendOptions,
    mut on_retry: impl FnMut(u32, u32),
    shutdown: CancellationToken,
) -> Result<UdpSendOutcome, UdpSendError> {
    check_payload(payload.len(), addr)?;
    let io_error = |source| UdpSendError::from_io(addr, payload.len(), source);
    let local = match addr {
        SocketAddr::V4(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        SocketAddr::V6(_) => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
    };
    let socket = UdpSocket::bind(local).await.map_err(io_error)?;
    // Connected, so only the server's datagrams are received and a
    // "port unreachable" comes back as a refusal instead of silence.
    socket.connect(addr).await.map_err(io_error)?;
    let attempts = options.retries.saturating_add(1);
    let mut buf = vec![0; RECEIVE_BYTES];
    for attempt in 1..=attempts {
        if attempt > 1 {
            on_retry(attempt, attempts);
        }
        socket.send(payload).await.map_err(io_error)?;
        let received = tokio::select! {
            biased;
            () = shutdown.cancelled() => return Ok(UdpSendOutcome::Interrupted),
            received = tokio::time::timeout(options.timeout, socket.recv(&mut buf)) => received,
        };
        match received {
            // Silence: the request or the answer was lost; send again.
            Err(_) => continue,
            Ok(Err(source)) => return Err(io_error(source)),
            Ok(Ok(read)) => {
                return Ok(UdpSendOutcome::Answered(UdpAnswer {
                    from: addr,
                    payload: buf.get(..read).unwrap_or_default().to_vec(),
                    attempts: attempt,
                }));
            }
        }
    }
    Err(UdpSendError::NoAnswer {
        addr,
        attempts,
        timeout: options.timeout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_limit_depends_on_family() {
        let v4: SocketAddr = "127.0.0.1:9".parse().expect("valid");
        let v6: SocketAddr = "[::1]:9".parse().expect("valid");
        assert!(check_payload(MAX_PAYLOAD_V4, v4).is_ok());
        assert!(check_payload(MAX_PAYLOAD_V4 + 1, v6).is_ok());
        let err = check_payload(MAX_PAYLOAD_V4 + 1, v4).expect_err("too large for IPv4");
        assert_eq!(
            err.to_string(),
            "the message is 65508 bytes, more than one UDP datagram to 127.0.0.1:9 can carry \
             (65507 bytes); send a shorter one or use tcp"
        );
        assert!(check_payload(MAX_PAYLOAD_V6 + 1, v6).is_err());
    }

    #[test]
    fn emsgsize_reads_as_too_large() {
        let addr: SocketAddr = "127.0.0.1:9".parse().expect("valid");
        let err = UdpSendError::from_io(addr, 70_000, io::Error::from_raw_os_error(EMSGSIZE));
        assert!(
            matches!(err, UdpSendError::TooLarge { len: 70_000, .. }),
            "{err}"
        );
    }
}
