//! Standard input for the clients, read on a plain thread. Tokio's own
//! stdin blocks runtime shutdown until the pending read returns (the user
//! presses Enter); a detached thread never holds up exit.

use std::io::{self, Read};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;

const CHUNK_BYTES: usize = 8 * 1024;

/// Chunks in flight between the thread and the reader: a little read-ahead,
/// and backpressure when the network is slower than the input.
const CHUNKS_AHEAD: usize = 4;

/// An [`AsyncRead`] over chunks read by a thread.
#[derive(Debug)]
pub struct ThreadedStdin {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    offset: usize,
}

/// Starts the reading thread. It ends at end of input, on a read error, or
/// after its next read once the reader is dropped.
pub fn stdin() -> io::Result<ThreadedStdin> {
    let (sender, chunks) = mpsc::channel(CHUNKS_AHEAD);
    std::thread::Builder::new()
        .name("stdin".to_owned())
        .spawn(move || {
            let mut input = io::stdin().lock();
            loop {
                let mut buf = vec![0; CHUNK_BYTES];
                let message = match input.read(&mut buf) {
                    Ok(0) => break,
                    Ok(read) => {
                        buf.truncate(read);
                        Ok(buf)
                    }
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    Err(err) => Err(err),
                };
                let failed = message.is_err();
                if sender.blocking_send(message).is_err() || failed {
                    break;
                }
            }
        })?;
    Ok(ThreadedStdin {
        chunks,
        current: Vec::new(),
        offset: 0,
    })
}

impl AsyncRead for ThreadedStdin {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            let this = &mut *self;
            if let Some(rest) = this
                .current
                .get(this.offset..)
                .filter(|rest| !rest.is_empty())
            {
                let take = rest.len().min(buf.remaining());
                buf.put_slice(&rest[..take]);
                this.offset += take;
                return Poll::Ready(Ok(()));
            }
            match this.chunks.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                // The thread is gone: end of input.
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Ready(Some(Err(err))) => return Poll::Ready(Err(err)),
                Poll::Ready(Some(Ok(chunk))) => {
                    this.current = chunk;
                    this.offset = 0;
                }
            }
        }
    }
}
