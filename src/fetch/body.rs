//! Reading a response body with a size cap counted after decompression, so
//! that a small compressed body that inflates to gigabytes (a gzip bomb) is
//! cut as soon as it passes the limit instead of filling memory.

use bytes::{Bytes, BytesMut};

use super::{FetchError, classify};

/// Reads the whole body, or fails with `TooLarge` once more than `limit`
/// bytes have arrived. Memory stays within `limit` plus one chunk.
pub async fn read_capped(mut resp: reqwest::Response, limit: u64) -> Result<Bytes, FetchError> {
    let hint = resp.content_length().unwrap_or(0).min(limit).min(1 << 20);
    let mut buf = BytesMut::with_capacity(usize::try_from(hint).unwrap_or(0));
    while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e))? {
        if (buf.len() + chunk.len()) as u64 > limit {
            return Err(FetchError::TooLarge { limit });
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}
