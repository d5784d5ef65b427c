//! Compact storage for queued URLs, which dominate a large crawl's memory:
//! by the time a few thousand pages are fetched, most of a site's URLs are
//! known and waiting. Each origin's queue is one byte ring holding, per
//! URL, its depth, a referrer slot and its path; the referrer strings are
//! shared through a slot table with reference counts, one per page that
//! still has links waiting.

use std::collections::VecDeque;
use std::sync::Arc;

use super::UrlKind;

/// Depths above 2^31 are not reachable in practice; the top bit of the
/// stored depth marks a sitemap.
pub const SITEMAP_BIT: u32 = 1 << 31;

/// A queued URL's depth and kind in one word.
pub fn pack_depth(depth: u32, kind: UrlKind) -> u32 {
    let depth = depth.min(SITEMAP_BIT - 1);
    match kind {
        UrlKind::Page => depth,
        UrlKind::Sitemap => depth | SITEMAP_BIT,
    }
}

/// `packed` with its depth replaced, its kind kept.
pub fn with_depth(packed: u32, depth: u32) -> u32 {
    (packed & SITEMAP_BIT) | depth.min(SITEMAP_BIT - 1)
}

pub fn unpack_depth(packed: u32) -> (u32, UrlKind) {
    let kind = if packed & SITEMAP_BIT == 0 {
        UrlKind::Page
    } else {
        UrlKind::Sitemap
    };
    (packed & !SITEMAP_BIT, kind)
}

const NO_REFERRER: u32 = u32::MAX;
const HEADER: usize = 12;

/// One origin's URLs in FIFO order, packed as
/// `depth (u32) | referrer slot (u32) | path length (u32) | path bytes`.
#[derive(Default)]
pub struct PackedQueue {
    bytes: VecDeque<u8>,
    len: usize,
}

impl PackedQueue {
    pub fn push(&mut self, depth: u32, referrer: u32, path: &str) {
        let path_len = u32::try_from(path.len()).unwrap_or(u32::MAX);
        self.bytes.extend(depth.to_le_bytes());
        self.bytes.extend(referrer.to_le_bytes());
        self.bytes.extend(path_len.to_le_bytes());
        self.bytes.extend(&path.as_bytes()[..path_len as usize]);
        self.len += 1;
    }

    /// The oldest entry: depth, referrer slot, path.
    pub fn pop(&mut self) -> Option<(u32, u32, String)> {
        if self.bytes.len() < HEADER {
            return None;
        }
        let mut header = [0u8; HEADER];
        for (dst, src) in header.iter_mut().zip(self.bytes.drain(..HEADER)) {
            *dst = src;
        }
        let word =
            |i: usize| u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
        let path_len = (word(8) as usize).min(self.bytes.len());
        let path: Vec<u8> = self.bytes.drain(..path_len).collect();
        self.len -= 1;
        if self.len == 0 {
            // Give back the ring's memory once an origin's queue drains.
            self.bytes = VecDeque::new();
        }
        // Paths come from `&str`, so they are valid UTF-8.
        Some((
            word(0),
            word(4),
            String::from_utf8(path).unwrap_or_default(),
        ))
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Referrer strings shared by the queued links of one page.
#[derive(Default)]
pub struct Referrers {
    slots: Vec<(Option<Arc<str>>, u32)>,
    free: Vec<u32>,
    /// The slot of the last referrer interned: a batch of links comes from
    /// one page, so this hits for all but the first.
    last: Option<u32>,
}

impl Referrers {
    /// A slot holding `referrer`, with its count raised by one.
    pub fn intern(&mut self, referrer: Option<&Arc<str>>) -> u32 {
        let Some(referrer) = referrer else {
            return NO_REFERRER;
        };
        if let Some(slot) = self.last
            && let Some((Some(held), count)) = self.slots.get_mut(slot as usize)
            && Arc::ptr_eq(held, referrer)
        {
            *count += 1;
            return slot;
        }
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = (Some(referrer.clone()), 1);
                slot
            }
            None => {
                self.slots.push((Some(referrer.clone()), 1));
                u32::try_from(self.slots.len() - 1).unwrap_or(NO_REFERRER)
            }
        };
        self.last = Some(slot);
        slot
    }

    /// The referrer in `slot`, lowering its count; the slot is freed at zero.
    pub fn release(&mut self, slot: u32) -> Option<Arc<str>> {
        let (held, count) = self.slots.get_mut(slot as usize)?;
        let referrer = held.clone();
        *count = count.saturating_sub(1);
        if *count == 0 {
            *held = None;
            self.free.push(slot);
        }
        referrer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_is_fifo_and_frees_its_memory_when_drained() {
        let mut q = PackedQueue::default();
        q.push(0, NO_REFERRER, "/a?x=1");
        q.push(3, 7, "/ü/b");
        q.push(1, 2, "");
        assert_eq!(q.pop(), Some((0, NO_REFERRER, "/a?x=1".to_string())));
        assert_eq!(q.pop(), Some((3, 7, "/ü/b".to_string())));
        assert!(!q.is_empty());
        assert_eq!(q.pop(), Some((1, 2, String::new())));
        assert!(q.is_empty());
        assert_eq!(q.pop(), None);
        assert_eq!(q.bytes.capacity(), 0);
    }

    #[test]
    fn referrers_are_shared_counted_and_reused() {
        let mut r = Referrers::default();
        let page: Arc<str> = "http://h/page".into();
        let other: Arc<str> = "http://h/other".into();
        assert_eq!(r.intern(None), NO_REFERRER);
        let a = r.intern(Some(&page));
        assert_eq!(r.intern(Some(&page)), a, "links of one page share a slot");
        let b = r.intern(Some(&other));
        assert_ne!(a, b);
        assert_eq!(r.release(a).as_deref(), Some("http://h/page"));
        assert_eq!(r.release(a).as_deref(), Some("http://h/page"));
        assert_eq!(r.release(NO_REFERRER), None);
        assert_eq!(
            r.intern(Some(&other)),
            b,
            "the last page's slot is still live"
        );
        let d = r.intern(Some(&page));
        assert_eq!(d, a, "the freed slot is reused");
    }
}
