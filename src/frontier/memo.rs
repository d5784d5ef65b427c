//! What a resumable crawl remembers of each page it fetched, for the next
//! run to recrawl it incrementally (`--recrawl`): the validators to send
//! back (`If-None-Match`, `If-Modified-Since`) and the links the page led
//! to, followed again when the server answers 304 Not Modified.
//!
//! Stored as one blob per page (`pages` table of the disk frontier): a
//! version byte, the two validators as length-prefixed strings, then the
//! links front-coded, each as the length of the prefix it shares with the
//! link before it and the rest. Links of one page share most of their
//! prefix, so a link takes about a dozen bytes.

/// A page fetched with content: its validators and followed links.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Memo {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The in-scope links the page led to, as canonical absolute URLs,
    /// in the order they were found.
    pub links: Vec<String>,
}

/// What a commit does with a page's memo; `fp` is the leased URL's
/// fingerprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageMemo {
    /// The page had content: keep (or replace) its memo, encoded
    /// ([`Memo::encode`], [`encode`]).
    Keep { fp: u64, memo: Vec<u8> },
    /// The page had content before and is gone now (404 or 410): forget it.
    Forget { fp: u64 },
}

const VERSION: u8 = 1;

/// Encodes a memo from its parts, without building a [`Memo`] first.
pub fn encode<'a>(
    etag: Option<&str>,
    last_modified: Option<&str>,
    links: impl ExactSizeIterator<Item = &'a str>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + links.len() * 16);
    out.push(VERSION);
    put_opt(&mut out, etag);
    put_opt(&mut out, last_modified);
    put_varint(&mut out, links.len() as u64);
    let mut prev: &str = "";
    for link in links {
        let shared = shared_prefix(prev, link);
        put_varint(&mut out, shared as u64);
        put_str(&mut out, &link[shared..]);
        prev = link;
    }
    out
}

impl Memo {
    pub fn encode(&self) -> Vec<u8> {
        encode(
            self.etag.as_deref(),
            self.last_modified.as_deref(),
            self.links.iter().map(String::as_str),
        )
    }

    /// Reads a stored memo back; `Err` names what is malformed.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        let mut r = Reader { bytes, at: 0 };
        match r.byte()? {
            VERSION => {}
            v => return Err(format!("page memo of unknown version {v}")),
        }
        let etag = r.opt()?;
        let last_modified = r.opt()?;
        let count = r.varint()?;
        // Each link takes at least two bytes: a count beyond that is corrupt.
        if count > (bytes.len() as u64) / 2 {
            return Err(format!(
                "page memo claims {count} links in {} bytes",
                bytes.len()
            ));
        }
        let mut links: Vec<String> = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let shared = usize::try_from(r.varint()?).map_err(|_| "link prefix too long")?;
            let rest = r.str()?;
            let prev = links.last().map_or("", String::as_str);
            let Some(head) = prev.get(..shared) else {
                return Err(format!(
                    "page memo link shares {shared} bytes of a shorter link"
                ));
            };
            links.push(format!("{head}{rest}"));
        }
        if r.at != bytes.len() {
            return Err("page memo has bytes after its links".to_string());
        }
        Ok(Self {
            etag,
            last_modified,
            links,
        })
    }
}

/// The length of the common prefix of `a` and `b`, at a char boundary.
fn shared_prefix(a: &str, b: &str) -> usize {
    let mut n = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    while !b.is_char_boundary(n) {
        n -= 1;
    }
    n
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// An absent string is length 0 with a marker byte before it.
fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let b = *self
            .bytes
            .get(self.at)
            .ok_or_else(|| "page memo ends early".to_string())?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err("page memo has an overlong number".to_string())
    }

    fn str(&mut self) -> Result<String, String> {
        let len = usize::try_from(self.varint()?).map_err(|_| "string too long")?;
        let end = self
            .at
            .checked_add(len)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| "page memo ends inside a string".to_string())?;
        let s = std::str::from_utf8(&self.bytes[self.at..end])
            .map_err(|_| "page memo holds a string that is not UTF-8".to_string())?;
        self.at = end;
        Ok(s.to_string())
    }

    fn opt(&mut self) -> Result<Option<String>, String> {
        match self.byte()? {
            0 => Ok(None),
            1 => self.str().map(Some),
            m => Err(format!("page memo has a bad marker {m}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memo() -> Memo {
        Memo {
            etag: Some("\"5f3-abc\"".into()),
            last_modified: Some("Wed, 02 Dec 2026 06:00:00 GMT".into()),
            links: vec![
                "http://127.0.0.1:8080/a/1.html".into(),
                "http://127.0.0.1:8080/a/2.html".into(),
                "http://127.0.0.1:8080/b/é.html".into(),
                "http://127.0.0.1:8080/b/éa.html".into(),
                "https://other.example/".into(),
            ],
        }
    }

    #[test]
    fn round_trips_and_front_codes_links() {
        let m = memo();
        let bytes = m.encode();
        assert_eq!(Memo::decode(&bytes).expect("decodes"), m);
        let raw: usize = m.links.iter().map(String::len).sum();
        assert!(
            bytes.len() < raw,
            "{} bytes for {raw} bytes of links",
            bytes.len()
        );
        let empty = Memo::default();
        assert_eq!(Memo::decode(&empty.encode()).expect("decodes"), empty);
    }

    #[test]
    fn malformed_memos_are_errors_not_panics() {
        let bytes = memo().encode();
        for cut in 0..bytes.len() {
            assert!(Memo::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(Memo::decode(&extra).is_err());
        assert!(Memo::decode(&[9]).is_err());
        // A shared prefix longer than the link before it.
        let mut bad = vec![VERSION, 0, 0, 1, 5];
        put_str(&mut bad, "x");
        assert!(Memo::decode(&bad).expect_err("corrupt").contains("shares"));
        // A huge link count in a few bytes.
        let mut huge = vec![VERSION, 0, 0];
        put_varint(&mut huge, u64::MAX);
        assert!(Memo::decode(&huge).is_err());
    }
}
