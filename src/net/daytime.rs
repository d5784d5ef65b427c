//! RFC 867 daytime: the answer line (formatted and parsed by pure
//! functions), the server over TCP and UDP on one port, and the client.
//!
//! RFC 867 leaves the format open; ours is one line of ASCII in the common
//! inetd form, ended by CRLF:
//!
//! ```text
//! Monday, November 23, 2026 04:52:25-UTC        (--utc, the default)
//! Monday, November 23, 2026 05:52:25+0100       (--local: the host's offset)
//! ```
//!
//! that is `%A, %B %d, %Y %H:%M:%S` then `-UTC` or the numeric offset
//! from UTC (zone names are not portable to look up). Over TCP the server
//! sends the line and closes without reading; over UDP it answers every
//! datagram, whatever it holds, with one datagram holding the line.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Local, NaiveDateTime, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio_util::sync::CancellationToken;

use super::addr::seconds;
use super::bind::{BindError, bind_tcp, bind_udp};
use super::listener::{ConnectionLimits, ServeStats, accept_loop};
use super::log::{ConnectionEnd, ServerLog};
use super::tcp::connect::{ConnectError, connect_any};
use super::udp::{
    UdpSendError, UdpSendOptions, UdpSendOutcome, UdpServeStats, answer_datagrams, request_udp,
};

/// The port RFC 867 assigns.
pub const DAYTIME_PORT: u16 = 13;

const DATE_TIME: &str = "%A, %B %d, %Y %H:%M:%S";

/// A client that does not take a 40-byte answer within this is dropped.
const ANSWER_WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// An answer is one short line; more than this without the server
/// closing means it is not a daytime server.
const MAX_ANSWER_BYTES: usize = 4096;

/// With port 0 and both transports, how many free TCP ports to try before
/// giving up on finding one whose UDP twin is free too.
const SHARED_PORT_TRIES: usize = 8;

/// Which clock the server reads out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    #[default]
    Utc,
    /// The host's time zone, written as its offset from UTC.
    Local,
}

/// The answer line for `now`, CRLF included.
pub fn daytime_line(now: DateTime<Utc>, zone: Zone) -> String {
    match zone {
        Zone::Utc => format!("{}-UTC\r\n", now.format(DATE_TIME)),
        Zone::Local => offset_line(now.with_timezone(&Local).fixed_offset()),
    }
}

fn offset_line(at: DateTime<FixedOffset>) -> String {
    format!("{}{}\r\n", at.format(DATE_TIME), at.format("%z"))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{text:?} is not a daytime line in the form \"Monday, November 23, 2026 04:52:25-UTC\" \
     (or with an offset like +0100)"
)]
pub struct DaytimeParseError {
    pub text: String,
}

/// Reads a line in our format back (line ending optional); the weekday
/// must match the date.
pub fn parse_daytime(text: &str) -> Result<DateTime<FixedOffset>, DaytimeParseError> {
    let line = text.trim_end_matches(['\r', '\n']);
    let parsed = match line.strip_suffix("-UTC") {
        Some(utc) => NaiveDateTime::parse_from_str(utc, DATE_TIME)
            .map(|naive| naive.and_utc().fixed_offset()),
        None => DateTime::parse_from_str(line, &format!("{DATE_TIME}%z")),
    };
    parsed.map_err(|_| DaytimeParseError {
        text: text.to_owned(),
    })
}

/// The transports to serve; both by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transports {
    pub tcp: bool,
    pub udp: bool,
}

/// The bound sockets of a daytime server; both on one port when both.
#[derive(Debug)]
pub struct DaytimeSockets {
    pub tcp: Option<TcpListener>,
    pub udp: Option<UdpSocket>,
}

impl DaytimeSockets {
    /// The address served (the same port for both transports).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match (&self.tcp, &self.udp) {
            (Some(tcp), _) => tcp.local_addr(),
            (None, Some(udp)) => udp.local_addr(),
            (None, None) => Err(io::Error::other("no transport bound")),
        }
    }
}

/// Binds the chosen transports on `addr`. With port 0 and both, the TCP
/// port the system picks is taken for UDP too, trying another if that one
/// is taken for UDP.
pub async fn bind_daytime(
    addr: SocketAddr,
    transports: Transports,
) -> Result<DaytimeSockets, BindError> {
    let (want_tcp, want_udp) = match transports {
        Transports {
            tcp: false,
            udp: false,
        } => (true, true),
        Transports { tcp, udp } => (tcp, udp),
    };
    if !want_tcp {
        let udp = bind_udp(addr).await?;
        return Ok(DaytimeSockets {
            tcp: None,
            udp: Some(udp),
        });
    }
    let mut tries = 0;
    loop {
        tries += 1;
        let tcp = bind_tcp(addr).await?;
        if !want_udp {
            return Ok(DaytimeSockets {
                tcp: Some(tcp),
                udp: None,
            });
        }
        let port = tcp
            .local_addr()
            .map_err(|err| BindError::from_io(super::log::Proto::Tcp, addr, err))?
            .port();
        match bind_udp(SocketAddr::new(addr.ip(), port)).await {
            Ok(udp) => {
                return Ok(DaytimeSockets {
                    tcp: Some(tcp),
                    udp: Some(udp),
                });
            }
            Err(BindError::InUse { .. }) if addr.port() == 0 && tries < SHARED_PORT_TRIES => {}
            Err(err) => return Err(err),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaytimeServeOptions {
    pub zone: Zone,
    pub limits: ConnectionLimits,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DaytimeStats {
    pub tcp: ServeStats,
    pub udp: UdpServeStats,
}

/// Serves daytime on the bound sockets until `shutdown`.
pub async fn serve_daytime(
    sockets: DaytimeSockets,
    options: DaytimeServeOptions,
    log: ServerLog,
    shutdown: CancellationToken,
) -> DaytimeStats {
    let zone = options.zone;
    let tcp = async {
        let Some(listener) = sockets.tcp else {
            return ServeStats::default();
        };
        accept_loop(
            listener,
            options.limits,
            log.clone(),
            shutdown.clone(),
            move |mut stream, traffic| async move {
                let line = daytime_line(Utc::now(), zone);
                let written = tokio::time::timeout(ANSWER_WRITE_TIMEOUT, async {
                    stream.write_all(line.as_bytes()).await?;
                    traffic.sent(line.len());
                    stream.shutdown().await
                });
                match written.await {
                    Err(_) => ConnectionEnd::IdleTimeout,
                    Ok(Err(err)) => ConnectionEnd::Failed(err.to_string()),
                    Ok(Ok(())) => ConnectionEnd::Answered,
                }
            },
        )
        .await
    };
    let udp = async {
        let Some(socket) = sockets.udp else {
            return UdpServeStats::default();
        };
        answer_datagrams(socket, log.clone(), shutdown.clone(), |_| {
            daytime_line(Utc::now(), zone).into_bytes()
        })
        .await
    };
    let (tcp, udp) = tokio::join!(tcp, udp);
    DaytimeStats { tcp, udp }
}

/// A server's answer, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaytimeAnswer {
    pub from: SocketAddr,
    /// The bytes as text (invalid UTF-8 replaced), line ending included.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaytimeOutcome {
    Answered(DaytimeAnswer),
    Interrupted,
}

#[derive(Debug, thiserror::Error)]
pub enum DaytimeGetError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("{peer} sent no complete answer within {}", seconds(*.timeout))]
    Timeout { peer: SocketAddr, timeout: Duration },
    #[error(
        "{peer} sent more than {MAX_ANSWER_BYTES} bytes without closing: not a daytime server?"
    )]
    TooLong { peer: SocketAddr },
    #[error("receiving from {peer} failed: {source}")]
    Receive {
        peer: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Udp(#[from] UdpSendError),
}

/// Asks over TCP: connect (each address under `timeout`), then read until
/// the server closes, all of it within `timeout`.
pub async fn get_daytime_tcp(
    target: &str,
    addrs: &[SocketAddr],
    timeout: Duration,
    shutdown: CancellationToken,
) -> Result<DaytimeOutcome, DaytimeGetError> {
    let exchange = async {
        let (stream, peer) = connect_any(target, addrs, timeout).await?;
        let mut answer = Vec::new();
        let mut capped = stream.take(MAX_ANSWER_BYTES as u64 + 1);
        let read = capped.read_to_end(&mut answer);
        match tokio::time::timeout(timeout, read).await {
            Err(_) => Err(DaytimeGetError::Timeout { peer, timeout }),
            Ok(Err(source)) => Err(DaytimeGetError::Receive { peer, source }),
            Ok(Ok(_)) if answer.len() > MAX_ANSWER_BYTES => Err(DaytimeGetError::TooLong { peer }),
            Ok(Ok(_)) => Ok(DaytimeAnswer {
                from: peer,
                text: String::from_utf8_lossy(&answer).into_owned(),
            }),
        }
    };
    tokio::select! {
        biased; // shutdown wins over work that is ready too
        () = shutdown.cancelled() => Ok(DaytimeOutcome::Interrupted),
        answer = exchange => answer.map(DaytimeOutcome::Answered),
    }
}

/// Asks over UDP: an empty datagram to `addr`, sent again on silence.
pub async fn get_daytime_udp(
    addr: SocketAddr,
    options: UdpSendOptions,
    on_retry: impl FnMut(u32, u32),
    shutdown: CancellationToken,
) -> Result<DaytimeOutcome, DaytimeGetError> {
    match request_udp(addr, b"", options, on_retry, shutdown).await? {
        UdpSendOutcome::Interrupted => Ok(DaytimeOutcome::Interrupted),
        UdpSendOutcome::Answered(answer) => Ok(DaytimeOutcome::Answered(DaytimeAnswer {
            from: answer.from,
            text: String::from_utf8_lossy(&answer.payload).into_owned(),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("valid RFC 3339 time")
    }

    #[test]
    fn utc_line_is_the_inetd_form() {
        let line = daytime_line(at("2026-11-23T04:52:25Z"), Zone::Utc);
        assert_eq!(line, "Monday, November 23, 2026 04:52:25-UTC\r\n");
        assert!(line.is_ascii());
        let line = daytime_line(at("2026-03-05T23:01:09Z"), Zone::Utc);
        assert_eq!(line, "Thursday, March 05, 2026 23:01:09-UTC\r\n");
    }

    #[test]
    fn offset_line_carries_the_offset() {
        let cet = FixedOffset::east_opt(3600).expect("valid offset");
        let at = cet
            .with_ymd_and_hms(2026, 11, 23, 5, 52, 25)
            .single()
            .expect("valid time");
        assert_eq!(
            offset_line(at),
            "Monday, November 23, 2026 05:52:25+0100\r\n"
        );
        assert_eq!(parse_daytime(&offset_line(at)), Ok(at));
    }

    #[test]
    fn parses_what_it_formats() {
        let now = at("2026-11-23T04:52:25Z");
        assert_eq!(
            parse_daytime(&daytime_line(now, Zone::Utc)),
            Ok(now.fixed_offset())
        );
        let local = parse_daytime(&daytime_line(now, Zone::Local)).expect("local line parses");
        assert_eq!(local, now);
    }

    #[test]
    fn rejects_other_forms() {
        for text in [
            "",
            "Mon Nov 23 04:52:25 2026",
            "Tuesday, November 23, 2026 04:52:25-UTC",
            "Monday, November 23, 2026 04:52:25",
            "Monday, November 23, 2026 04:52:25-CET",
        ] {
            let err = parse_daytime(text).expect_err(text);
            assert_eq!(err.text, text);
        }
    }
}
