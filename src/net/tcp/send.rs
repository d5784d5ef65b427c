//! `tcp send`: connect, send a message or stdin, half-close, and copy what
//! comes back to the output until the server closes or falls silent.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::WriteHalf;
use tokio_util::sync::CancellationToken;

use super::connect::{ConnectError, connect_any};
use crate::net::addr::seconds;

const BUFFER_BYTES: usize = 16 * 1024;

/// In `--lines` mode a reply line longer than this is printed unfinished
/// rather than held back without bound.
const MAX_HELD_LINE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendMode {
    /// Input goes out as it is read; replies are printed as they arrive.
    Stream,
    /// For line protocols used by hand: each input line goes out as one
    /// write as soon as it is complete, ended by `ending`, and replies are
    /// printed a whole line at a time.
    Lines { ending: LineEnding },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    Lf,
    /// What most line protocols (SMTP, HTTP, RFC 867's own examples) expect.
    CrLf,
}

impl LineEnding {
    fn bytes(self) -> &'static [u8] {
        match self {
            LineEnding::Lf => b"\n",
            LineEnding::CrLf => b"\r\n",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSendOptions {
    pub connect_timeout: Duration,
    /// Once the input is sent, how long the server may stay silent; also
    /// how long a write may stall. Not applied while input is still being
    /// read, since a person may be typing it.
    pub timeout: Duration,
    pub mode: SendMode,
}

/// How the exchange ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendEnd {
    /// The server closed its side: the whole reply was received.
    ServerClosed,
    /// Nothing arrived for `timeout` after the input was sent.
    TimedOut,
    /// The shutdown token fired (Ctrl-C).
    Interrupted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSendReport {
    pub peer: Option<SocketAddr>,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub end: SendEnd,
}

#[derive(Debug, thiserror::Error)]
pub enum TcpSendError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("sending to {peer} failed: {source}")]
    Send {
        peer: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("sending to {peer} stalled: the server took nothing for {}", seconds(*.timeout))]
    SendStalled { peer: SocketAddr, timeout: Duration },
    #[error("receiving from {peer} failed: {source}")]
    Receive {
        peer: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("reading the input failed: {0}")]
    Input(#[source] io::Error),
    #[error("writing the output failed: {0}")]
    Output(#[source] io::Error),
}

/// Connects to the first of `addrs` that answers (`target` names them in
/// errors), sends `input`, and writes the reply to `output`.
pub async fn send_tcp<R, W>(
    target: &str,
    addrs: &[SocketAddr],
    input: R,
    output: &mut W,
    options: TcpSendOptions,
    shutdown: CancellationToken,
) -> Result<TcpSendReport, TcpSendError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let stream = tokio::select! {
        biased; // shutdown wins over work that is ready too
        () = shutdown.cancelled() => return Ok(TcpSendReport {
            peer: None,
            bytes_sent: 0,
            bytes_received: 0,
            end: SendEnd::Interrupted,
        }),
        stream = connect_any(target, addrs, options.connect_timeout) => stream?,
    };
    exchange(stream.0, stream.1, input, output, options, shutdown).await
}

/// Sends and receives at the same time: a server that answers while it
/// reads (echo) would otherwise fill both socket buffers and deadlock.
async fn exchange<R, W>(
    mut stream: TcpStream,
    peer: SocketAddr,
    input: R,
    output: &mut W,
    options: TcpSendOptions,
    shutdown: CancellationToken,
) -> Result<TcpSendReport, TcpSendError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (mut reader, mut writer) = stream.split();
    let bytes_sent = AtomicU64::new(0);
    let sending = send_input(input, &mut writer, peer, options, &bytes_sent);
    tokio::pin!(sending);
    let mut input_done = false;
    // A failed send (the server closed early) is reported only after what
    // the server did send has been read and printed.
    let mut send_failure = None;
    let mut printer = Printer::new(options.mode);
    let mut bytes_received = 0;
    let mut buf = vec![0; BUFFER_BYTES];

    let end = loop {
        // The silence timeout starts only once everything is sent.
        let silence = input_done.then_some(options.timeout);
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break Ok(SendEnd::Interrupted),
            sent = &mut sending, if !input_done => {
                input_done = true;
                send_failure = sent.err();
            }
            read = read_within(&mut reader, &mut buf, silence) => match read {
                None => break Ok(SendEnd::TimedOut),
                Some(Err(source)) => break Err(TcpSendError::Receive { peer, source }),
                Some(Ok(0)) => break Ok(SendEnd::ServerClosed),
                Some(Ok(read)) => {
                    bytes_received += read as u64;
                    printer.write(output, buf.get(..read).unwrap_or_default()).await?;
                }
            },
        }
    };
    printer.finish(output).await?;
    let end = match (end, send_failure) {
        (Ok(SendEnd::Interrupted), _) => SendEnd::Interrupted,
        (_, Some(failure)) => return Err(failure),
        (end, None) => end?,
    };
    Ok(TcpSendReport {
        peer: Some(peer),
        bytes_sent: bytes_sent.load(Ordering::Relaxed),
        bytes_received,
        end,
    })
}

/// `None` when `silence` passed without data.
async fn read_within(
    reader: &mut (impl AsyncRead + Unpin),
    buf: &mut [u8],
    silence: Option<Duration>,
) -> Option<io::Result<usize>> {
    match silence {
        Some(silence) => tokio::time::timeout(silence, reader.read(buf)).await.ok(),
        None => Some(reader.read(buf).await),
    }
}

async fn send_input<R: AsyncRead + Unpin>(
    input: R,
    writer: &mut WriteHalf<'_>,
    peer: SocketAddr,
    options: TcpSendOptions,
    bytes_sent: &AtomicU64,
) -> Result<(), TcpSendError> {
    let mut put = async |bytes: &[u8]| -> Result<(), TcpSendError> {
        match tokio::time::timeout(options.timeout, writer.write_all(bytes)).await {
            Err(_) => Err(TcpSendError::SendStalled {
                peer,
                timeout: options.timeout,
            }),
            Ok(Err(source)) => Err(TcpSendError::Send { peer, source }),
            Ok(Ok(())) => {
                bytes_sent.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                Ok(())
            }
        }
    };
    match options.mode {
        SendMode::Stream => {
            let mut input = input;
            let mut buf = vec![0; BUFFER_BYTES];
            loop {
                let read = input.read(&mut buf).await.map_err(TcpSendError::Input)?;
                match buf.get(..read) {
                    Some(chunk) if !chunk.is_empty() => put(chunk).await?,
                    _ => break,
                }
            }
        }
        SendMode::Lines { ending } => {
            let mut input = BufReader::new(input);
            let mut line = Vec::new();
            loop {
                line.clear();
                let read = input
                    .read_until(b'\n', &mut line)
                    .await
                    .map_err(TcpSendError::Input)?;
                if read == 0 {
                    break;
                }
                let text = line.strip_suffix(b"\n").unwrap_or(&line);
                let text = text.strip_suffix(b"\r").unwrap_or(text);
                put(&[text, ending.bytes()].concat()).await?;
            }
        }
    }
    // Half-close: tells the server the request is complete while its
    // reply can still come back.
    match tokio::time::timeout(options.timeout, writer.shutdown()).await {
        Err(_) => Err(TcpSendError::SendStalled {
            peer,
            timeout: options.timeout,
        }),
        Ok(Err(source)) => Err(TcpSendError::Send { peer, source }),
        Ok(Ok(())) => Ok(()),
    }
}

/// Writes reply bytes to the output, flushing each time, so a person sees
/// them as they come; in lines mode, only whole lines.
struct Printer {
    whole_lines: bool,
    held: Vec<u8>,
}

impl Printer {
    fn new(mode: SendMode) -> Self {
        Self {
            whole_lines: matches!(mode, SendMode::Lines { .. }),
            held: Vec::new(),
        }
    }

    async fn write<W: AsyncWrite + Unpin>(
        &mut self,
        output: &mut W,
        bytes: &[u8],
    ) -> Result<(), TcpSendError> {
        if !self.whole_lines {
            return put_out(output, bytes).await;
        }
        self.held.extend_from_slice(bytes);
        let ready = match self.held.iter().rposition(|&b| b == b'\n') {
            Some(last_newline) => last_newline + 1,
            None if self.held.len() > MAX_HELD_LINE_BYTES => self.held.len(),
            None => return Ok(()),
        };
        let rest = self.held.split_off(ready);
        let lines = std::mem::replace(&mut self.held, rest);
        put_out(output, &lines).await
    }

    async fn finish<W: AsyncWrite + Unpin>(&mut self, output: &mut W) -> Result<(), TcpSendError> {
        let rest = std::mem::take(&mut self.held);
        put_out(output, &rest).await
    }
}

async fn put_out<W: AsyncWrite + Unpin>(output: &mut W, bytes: &[u8]) -> Result<(), TcpSendError> {
    output
        .write_all(bytes)
        .await
        .map_err(TcpSendError::Output)?;
    output.flush().await.map_err(TcpSendError::Output)
}
