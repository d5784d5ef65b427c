//! From parsed arguments to a finished tool: resolve, bind, wire standard
//! input, output and error, and pick the exit code. The only part of
//! `net` that touches the process's standard streams.
//!
//! Exit codes: 0 done (for servers: stopped cleanly), 1 failed (refused,
//! no answer, a closed port), 2 bad input (a `--bind` that cannot be used,
//! a datagram too large), 130 interrupted (clients only: for a server
//! Ctrl-C is the normal way to stop).

use std::net::SocketAddr;
use std::time::Duration;

use crate::outcome::Outcome;
use anyhow::Context;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

use super::addr::{AddrError, Endpoint, ResolveError, seconds};
use super::args::{
    DaytimeCommand, DaytimeGetArgs, DaytimeServeArgs, TcpCheckArgs, TcpCommand, TcpSendArgs,
    TcpServeArgs, UdpCommand, UdpSendArgs, UdpServeArgs,
};
use super::bind::{BindError, bind_addr, bind_tcp, bind_udp};
use super::daytime::{
    DaytimeOutcome, DaytimeServeOptions, Transports, Zone, bind_daytime, get_daytime_tcp,
    get_daytime_udp, serve_daytime,
};
use super::listener::ConnectionLimits;
use super::log::{Proto, ServerEvent, ServerLog};
use super::stdin::stdin;
use super::tcp::check::check_ports;
use super::tcp::send::{LineEnding, SendEnd, SendMode, TcpSendOptions, send_tcp};
use super::tcp::serve::{TcpServeMode, TcpServeOptions, serve_tcp};
use super::udp::{
    UdpSendError, UdpSendOptions, UdpSendOutcome, UdpServeMode, check_payload, request_udp,
    serve_udp,
};

/// How long a `--bind` name may take to resolve.
const BIND_RESOLVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Daytime answers are tiny; this many clients at once is plenty.
const DAYTIME_MAX_CONNS: usize = 256;
const DAYTIME_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// The outcome of an error a `run_*` function returned: bad input when
/// the input was at fault, failed otherwise.
pub fn outcome_for(err: &anyhow::Error) -> Outcome {
    let bad_input = err.chain().any(|cause| {
        cause.is::<AddrError>()
            || cause.is::<BindError>()
            || matches!(
                cause.downcast_ref::<UdpSendError>(),
                Some(UdpSendError::TooLarge { .. })
            )
    });
    if bad_input {
        Outcome::BadInput
    } else {
        Outcome::Failed
    }
}

/// Runs `collector tcp ...`; the exit code, or an error for
/// [`outcome_for`].
pub async fn run_tcp(command: TcpCommand, shutdown: CancellationToken) -> anyhow::Result<Outcome> {
    match command {
        TcpCommand::Serve(args) => tcp_serve(args, shutdown).await,
        TcpCommand::Send(args) => tcp_send(args, shutdown).await,
        TcpCommand::Check(args) => tcp_check(args, shutdown).await,
    }
}

/// Runs `collector udp ...`.
pub async fn run_udp(command: UdpCommand, shutdown: CancellationToken) -> anyhow::Result<Outcome> {
    match command {
        UdpCommand::Serve(args) => udp_serve(args, shutdown).await,
        UdpCommand::Send(args) => udp_send(args, shutdown).await,
    }
}

/// Runs `collector daytime ...`.
pub async fn run_daytime(
    command: DaytimeCommand,
    shutdown: CancellationToken,
) -> anyhow::Result<Outcome> {
    match command {
        DaytimeCommand::Serve(args) => daytime_serve(args, shutdown).await,
        DaytimeCommand::Get(args) => daytime_get(args, shutdown).await,
    }
}

impl TcpServeArgs {
    pub fn options(&self) -> TcpServeOptions {
        let mode = match (&self.mode.reply, self.mode.discard) {
            (Some(text), _) => TcpServeMode::Reply(text.clone().into_bytes()),
            (None, true) => TcpServeMode::Discard,
            (None, false) => TcpServeMode::Echo,
        };
        TcpServeOptions {
            mode,
            limits: ConnectionLimits {
                max_conns: usize::try_from(self.max_conns).unwrap_or(usize::MAX),
                shutdown_timeout: self.shutdown_timeout,
            },
            idle_timeout: self.idle_timeout,
        }
    }
}

impl TcpSendArgs {
    pub fn options(&self) -> TcpSendOptions {
        let mode = match (self.lines, self.crlf) {
            (false, _) => SendMode::Stream,
            (true, false) => SendMode::Lines {
                ending: LineEnding::Lf,
            },
            (true, true) => SendMode::Lines {
                ending: LineEnding::CrLf,
            },
        };
        TcpSendOptions {
            connect_timeout: self.connect_timeout,
            timeout: self.timeout,
            mode,
        }
    }
}

async fn tcp_serve(args: TcpServeArgs, shutdown: CancellationToken) -> anyhow::Result<Outcome> {
    let addr = bind_addr(&args.bind, BIND_RESOLVE_TIMEOUT).await?;
    let listener = bind_tcp(addr).await?;
    let options = args.options();
    let log = ServerLog::tracing();
    log.event(ServerEvent::Listening {
        proto: Proto::Tcp,
        addr: listener.local_addr().unwrap_or(addr),
        what: options.describe(),
    });
    let stats = serve_tcp(listener, options, log, shutdown).await;
    tracing::info!(
        connections = stats.connections,
        bytes_in = stats.bytes_in,
        bytes_out = stats.bytes_out,
        cut_at_shutdown = stats.cut_at_shutdown,
        "served {} connection(s): {} bytes in, {} bytes out, {} cut at shutdown",
        stats.connections,
        stats.bytes_in,
        stats.bytes_out,
        stats.cut_at_shutdown
    );
    Ok(Outcome::Done)
}

/// Resolves a client's target, or `None` when interrupted meanwhile.
async fn resolve(
    target: &Endpoint,
    timeout: Duration,
    shutdown: &CancellationToken,
) -> Result<Option<Vec<SocketAddr>>, ResolveError> {
    tokio::select! {
        biased; // shutdown wins over work that is ready too
        () = shutdown.cancelled() => Ok(None),
        addrs = target.resolve(timeout) => addrs.map(Some),
    }
}

async fn tcp_send(args: TcpSendArgs, shutdown: CancellationToken) -> anyhow::Result<Outcome> {
    let Some(addrs) = resolve(&args.addr, args.connect_timeout, &shutdown).await? else {
        return Ok(Outcome::Interrupted);
    };
    let target = args.addr.to_string();
    let options = args.options();
    let mut stdout = tokio::io::stdout();
    let report = match &args.message {
        Some(message) => {
            send_tcp(
                &target,
                &addrs,
                message.as_bytes(),
                &mut stdout,
                options,
                shutdown,
            )
            .await?
        }
        None => {
            let input = stdin().context("could not read standard input")?;
            send_tcp(&target, &addrs, input, &mut stdout, options, shutdown).await?
        }
    };
    Ok(match report.end {
        SendEnd::ServerClosed => Outcome::Done,
        SendEnd::Interrupted => Outcome::Interrupted,
        SendEnd::TimedOut => {
            tracing::warn!(
                "{target} sent nothing for {} and did not close; giving up (see --timeout)",
                seconds(args.timeout)
            );
            Outcome::Failed
        }
    })
}

async fn tcp_check(args: TcpCheckArgs, shutdown: CancellationToken) -> anyhow::Result<Outcome> {
    let results = check_ports(args.addrs, args.timeout);
    tokio::pin!(results);
    let mut stdout = tokio::io::stdout();
    let mut all_open = true;
    loop {
        let result = tokio::select! {
            biased;
            () = shutdown.cancelled() => return Ok(Outcome::Interrupted),
            result = results.next() => match result {
                Some(result) => result,
                None => break,
            },
        };
        all_open &= result.status.is_open();
        stdout
            .write_all(format!("{result}\n").as_bytes())
            .await
            .context("could not write to standard output")?;
        stdout
            .flush()
            .await
            .context("could not write to standard output")?;
    }
    Ok(if all_open {
        Outcome::Done
    } else {
        Outcome::Failed
    })
}

async fn udp_serve(args: UdpServeArgs, shutdown: CancellationToken) -> anyhow::Result<Outcome> {
    let addr = bind_addr(&args.bind, BIND_RESOLVE_TIMEOUT).await?;
    let mode = match args.mode.reply {
        Some(text) => {
            check_payload(text.len(), addr).context("--reply TEXT cannot be sent")?;
            UdpServeMode::Reply(text.into_bytes())
        }
        None => UdpServeMode::Echo,
    };
    let socket = bind_udp(addr).await?;
    let log = ServerLog::tracing();
    log.event(ServerEvent::Listening {
        proto: Proto::Udp,
        addr: socket.local_addr().unwrap_or(addr),
        what: match &mode {
            UdpServeMode::Echo => "echo".to_owned(),
            UdpServeMode::Reply(text) => format!("reply {} bytes", text.len()),
        },
    });
    let stats = serve_udp(socket, mode, log, shutdown).await;
    tracing::info!(
        datagrams = stats.datagrams,
        bytes_in = stats.bytes_in,
        bytes_out = stats.bytes_out,
        "answered {} datagram(s): {} bytes in, {} bytes out",
        stats.datagrams,
        stats.bytes_in,
        stats.bytes_out
    );
    Ok(Outcome::Done)
}

/// A name may resolve to several addresses; a datagram goes to the first.
fn first(addrs: &[SocketAddr], target: &Endpoint) -> anyhow::Result<SocketAddr> {
    addrs.first().copied().ok_or_else(|| {
        ResolveError::NoAddresses {
            host: target.to_string(),
        }
        .into()
    })
}

fn retry_notice(addr: SocketAddr, timeout: Duration) -> impl FnMut(u32, u32) {
    move |attempt, attempts| {
        tracing::warn!(
            "no answer from udp {addr} within {}; sending again ({attempt} of {attempts})",
            seconds(timeout)
        );
    }
}

async fn udp_send(args: UdpSendArgs, shutdown: CancellationToken) -> anyhow::Result<Outcome> {
    let Some(addrs) = resolve(&args.addr, args.timeout, &shutdown).await? else {
        return Ok(Outcome::Interrupted);
    };
    let addr = first(&addrs, &args.addr)?;
    let options = UdpSendOptions {
        timeout: args.timeout,
        retries: args.retries,
    };
    let notice = retry_notice(addr, args.timeout);
    match request_udp(addr, args.message.as_bytes(), options, notice, shutdown).await? {
        UdpSendOutcome::Interrupted => Ok(Outcome::Interrupted),
        UdpSendOutcome::Answered(answer) => {
            print(&answer.payload).await?;
            Ok(Outcome::Done)
        }
    }
}

async fn daytime_serve(
    args: DaytimeServeArgs,
    shutdown: CancellationToken,
) -> anyhow::Result<Outcome> {
    let addr = bind_addr(&args.bind, BIND_RESOLVE_TIMEOUT).await?;
    let transports = Transports {
        tcp: args.tcp,
        udp: args.udp,
    };
    let sockets = bind_daytime(addr, transports).await?;
    let zone = if args.local { Zone::Local } else { Zone::Utc };
    let log = ServerLog::tracing();
    let what = match zone {
        Zone::Utc => "daytime, UTC",
        Zone::Local => "daytime, local time",
    };
    for (proto, bound) in [
        (Proto::Tcp, sockets.tcp.as_ref().map(|l| l.local_addr())),
        (Proto::Udp, sockets.udp.as_ref().map(|s| s.local_addr())),
    ] {
        if let Some(bound) = bound {
            log.event(ServerEvent::Listening {
                proto,
                addr: bound.unwrap_or(addr),
                what: what.to_owned(),
            });
        }
    }
    let options = DaytimeServeOptions {
        zone,
        limits: ConnectionLimits {
            max_conns: DAYTIME_MAX_CONNS,
            shutdown_timeout: DAYTIME_SHUTDOWN_TIMEOUT,
        },
    };
    let stats = serve_daytime(sockets, options, log, shutdown).await;
    tracing::info!(
        tcp_connections = stats.tcp.connections,
        udp_datagrams = stats.udp.datagrams,
        "answered {} tcp connection(s) and {} udp datagram(s)",
        stats.tcp.connections,
        stats.udp.datagrams
    );
    Ok(Outcome::Done)
}

async fn daytime_get(args: DaytimeGetArgs, shutdown: CancellationToken) -> anyhow::Result<Outcome> {
    let Some(addrs) = resolve(&args.addr, args.timeout, &shutdown).await? else {
        return Ok(Outcome::Interrupted);
    };
    let outcome = if args.udp {
        let addr = first(&addrs, &args.addr)?;
        let options = UdpSendOptions {
            timeout: args.timeout,
            retries: args.retries,
        };
        get_daytime_udp(addr, options, retry_notice(addr, args.timeout), shutdown).await?
    } else {
        get_daytime_tcp(&args.addr.to_string(), &addrs, args.timeout, shutdown).await?
    };
    match outcome {
        DaytimeOutcome::Interrupted => Ok(Outcome::Interrupted),
        DaytimeOutcome::Answered(answer) => {
            let line = format!("{}\n", answer.text.trim_end_matches(['\r', '\n']));
            print(line.as_bytes()).await?;
            Ok(Outcome::Done)
        }
    }
}

/// Writes an answer to standard output and flushes it.
async fn print(bytes: &[u8]) -> anyhow::Result<()> {
    let mut stdout = tokio::io::stdout();
    stdout
        .write_all(bytes)
        .await
        .context("could not write to standard output")?;
    stdout
        .flush()
        .await
        .context("could not write to standard output")
}
