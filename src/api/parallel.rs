//! The planned pages of a pull fetched side by side: `--concurrency` at a
//! time, and no more than a byte budget of page bodies held at once, so
//! that large pages cannot multiply memory by the concurrency. Pages are
//! handed back in page order, so records are written and checkpointed in
//! order.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::StreamExt as _;
use tokio::sync::Semaphore;
use url::Url;

use super::pull::{PullSummary, Puller, Stopped, fail, stopped_by};
use super::recorder::Recorder;
use super::settings::PullSettings;
use super::{StopReason, Strategy, records};

/// The budget is counted in KiB, so that `u32` permits cover any size.
const UNIT: u64 = 1024;

/// What one page is expected to hold while in flight: the largest body
/// seen so far, at least one unit and at most the whole budget (so one
/// page can always go); the whole budget while no size is known yet.
fn units(bytes: u64, budget: u32) -> u32 {
    if bytes == 0 {
        return budget;
    }
    u32::try_from(bytes.div_ceil(UNIT))
        .unwrap_or(u32::MAX)
        .clamp(1, budget)
}

/// Fetches `urls` in order. Each page takes its share of the byte budget
/// before it is requested and gives it back once its records are written;
/// its share is the largest body seen so far (`first_bytes`, the first
/// page's, to begin with; a resumed pull learns it from its first pages),
/// so with pages of similar size at most `budget / size` are held.
/// A page's body is parsed only when its turn to be written comes, so one
/// parsed page is in memory at a time. The first failure stops the pull;
/// pages before it are kept. `--max-pages` cuts the plan and says so.
pub(super) async fn pages(
    puller: &Puller,
    mut urls: Vec<Url>,
    first_bytes: u64,
    settings: &PullSettings,
    strategy: &Strategy,
    recorder: &mut Recorder,
    summary: &mut PullSummary,
) -> anyhow::Result<()> {
    let cut = match settings.max_pages {
        Some(max) => {
            let left = usize::try_from(max.saturating_sub(summary.pages)).unwrap_or(usize::MAX);
            let cut = urls.len() > left;
            urls.truncate(left);
            cut
        }
        None => false,
    };
    let budget = u32::try_from(settings.bytes_in_flight.div_ceil(UNIT))
        .unwrap_or(u32::MAX)
        .max(1);
    let room = Arc::new(Semaphore::new(budget as usize));
    let largest = Arc::new(AtomicU64::new(first_bytes));
    let mut fetched = futures::stream::iter(urls.iter().cloned().enumerate())
        .map(|(i, url)| {
            let (room, largest) = (room.clone(), largest.clone());
            async move {
                let share = units(largest.load(Ordering::Relaxed), budget);
                // Never closed, so acquiring only waits.
                let permit = room.acquire_many_owned(share).await.ok();
                let page = puller.fetch(&url).await;
                if let Ok(raw) = &page {
                    largest.fetch_max(raw.body.len() as u64, Ordering::Relaxed);
                }
                (i, url, page, permit)
            }
        })
        .buffered(settings.concurrency);
    while let Some((i, url, page, permit)) = fetched.next().await {
        let page = match page.and_then(|raw| raw.parse().map_err(Some)) {
            Ok(p) => p,
            Err(failed) => {
                stopped_by(summary, failed, &url);
                return Ok(());
            }
        };
        summary.retries += u64::from(page.retries);
        summary.rate_limit_waits += u64::from(page.rate_limited);
        let found = match records(&page.body, settings.records.as_deref()) {
            Ok(r) => r,
            Err(e) => {
                fail(summary, e.kind(), &url, e.to_string());
                return Ok(());
            }
        };
        recorder.write(found)?;
        summary.pages += 1;
        summary.records += found.len() as u64;
        let next = if found.is_empty() {
            None
        } else {
            urls.get(i + 1)
        };
        recorder.checkpoint(Some(strategy), next, summary.pages, summary.records)?;
        if found.is_empty() {
            summary.stopped = Stopped::Done(StopReason::EmptyPage);
            return Ok(());
        }
        drop((page, permit));
        if puller.stop.is_cancelled() {
            summary.stopped = Stopped::Interrupted;
            return Ok(());
        }
    }
    summary.stopped = if cut {
        Stopped::MaxPages
    } else {
        Stopped::Done(StopReason::LastPage)
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_is_the_page_size_within_the_budget() {
        assert_eq!(units(0, 100), 100, "unknown: the whole budget");
        assert_eq!(units(1, 100), 1);
        assert_eq!(units(10 * 1024 + 1, 100), 11);
        assert_eq!(units(u64::MAX, 100), 100);
    }
}
