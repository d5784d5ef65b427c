//! `tcp serve`: what a connection gets (echo, a fixed reply, or nothing)
//! and the idle timeout. Accepting, the cap and shutdown live in
//! `listener.rs`, shared with the daytime server.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::net::addr::seconds;
use crate::net::listener::{ConnectionLimits, ServeStats, Traffic, accept_loop};
use crate::net::log::{ConnectionEnd, ServerLog};

/// Per-connection read buffer; also the largest single echo write.
const BUFFER_BYTES: usize = 16 * 1024;

/// What the server does with a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpServeMode {
    /// Sends back every byte received, until the client closes.
    Echo,
    /// Sends these bytes on connect, then closes its side; what the client
    /// sends is read and thrown away, so that closing never resets the
    /// connection before the client has read the reply.
    Reply(Vec<u8>),
    /// Reads and throws away everything, sends nothing.
    Discard,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpServeOptions {
    pub mode: TcpServeMode,
    pub limits: ConnectionLimits,
    /// A connection where no read or write completes for this long is closed.
    pub idle_timeout: Duration,
}

impl TcpServeOptions {
    /// A short summary for the "listening on" line.
    pub fn describe(&self) -> String {
        let mode = match &self.mode {
            TcpServeMode::Echo => "echo".to_owned(),
            TcpServeMode::Reply(text) => format!("reply {} bytes", text.len()),
            TcpServeMode::Discard => "discard".to_owned(),
        };
        format!(
            "{mode}, max {} connections, idle timeout {}",
            self.limits.max_conns,
            seconds(self.idle_timeout)
        )
    }
}

/// Serves connections on `listener` until `shutdown`, then lets open
/// connections finish up to `limits.shutdown_timeout`.
pub async fn serve_tcp(
    listener: TcpListener,
    options: TcpServeOptions,
    log: ServerLog,
    shutdown: CancellationToken,
) -> ServeStats {
    let mode = Arc::new(options.mode);
    let idle = options.idle_timeout;
    accept_loop(
        listener,
        options.limits,
        log,
        shutdown,
        move |stream, traffic| {
            let mode = Arc::clone(&mode);
            async move { converse(stream, &mode, idle, &traffic).await }
        },
    )
    .await
}

/// Why a conversation stopped early.
enum Stop {
    Idle,
    Io(io::Error),
}

async fn converse(
    mut stream: TcpStream,
    mode: &TcpServeMode,
    idle: Duration,
    traffic: &Traffic,
) -> ConnectionEnd {
    let result = match mode {
        TcpServeMode::Echo => echo(&mut stream, idle, traffic).await,
        TcpServeMode::Reply(text) => reply(&mut stream, text, idle, traffic).await,
        TcpServeMode::Discard => discard(&mut stream, idle, traffic).await,
    };
    match result {
        Ok(()) => ConnectionEnd::ClientClosed,
        Err(Stop::Idle) => ConnectionEnd::IdleTimeout,
        Err(Stop::Io(err)) => ConnectionEnd::Failed(err.to_string()),
    }
}

/// Every read and write runs under the idle timeout, so a client that
/// neither sends nor reads cannot hold a connection slot forever.
async fn within<T>(idle: Duration, step: impl Future<Output = io::Result<T>>) -> Result<T, Stop> {
    match tokio::time::timeout(idle, step).await {
        Err(_) => Err(Stop::Idle),
        Ok(Err(err)) => Err(Stop::Io(err)),
        Ok(Ok(value)) => Ok(value),
    }
}

async fn echo(stream: &mut TcpStream, idle: Duration, traffic: &Traffic) -> Result<(), Stop> {
    let mut buf = vec![0; BUFFER_BYTES];
    loop {
        let read = within(idle, stream.read(&mut buf)).await?;
        let Some(chunk) = buf.get(..read).filter(|chunk| !chunk.is_empty()) else {
            break;
        };
        traffic.received(read);
        within(idle, stream.write_all(chunk)).await?;
        traffic.sent(read);
    }
    within(idle, stream.shutdown()).await
}

async fn reply(
    stream: &mut TcpStream,
    text: &[u8],
    idle: Duration,
    traffic: &Traffic,
) -> Result<(), Stop> {
    within(idle, stream.write_all(text)).await?;
    traffic.sent(text.len());
    within(idle, stream.shutdown()).await?;
    discard_input(stream, idle, traffic).await
}

async fn discard(stream: &mut TcpStream, idle: Duration, traffic: &Traffic) -> Result<(), Stop> {
    discard_input(stream, idle, traffic).await?;
    within(idle, stream.shutdown()).await
}

async fn discard_input(
    stream: &mut TcpStream,
    idle: Duration,
    traffic: &Traffic,
) -> Result<(), Stop> {
    let mut buf = vec![0; BUFFER_BYTES];
    loop {
        match within(idle, stream.read(&mut buf)).await? {
            0 => return Ok(()),
            read => traffic.received(read),
        }
    }
}
