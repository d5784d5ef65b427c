//! Handing out leases, the same for every frontier held by this process
//! (memory, disk): the round-robin walk over origins with queued URLs that
//! asks the gate for each, the `max_pages` and close checks, and waiting
//! for a change or for the earliest origin to become ready.

use std::collections::VecDeque;
use std::time::Instant;

use tokio::sync::Notify;

use super::{FrontierError, Lease, Limits};
use crate::gate::Wait;

pub(super) enum Next {
    Lease(Lease),
    Finished,
    /// Nothing is ready; wait for a change, or until this instant at the latest.
    Wait(Option<Instant>),
}

/// What became of one origin's turn in the ring.
pub(super) enum Turn {
    Leased {
        lease: Lease,
        more: bool,
    },
    /// The origin's next URL could not be leased (it was dropped, or the
    /// queue was empty after all); `more` if others wait behind it.
    Skipped {
        more: bool,
    },
    /// The gate said not now.
    NotReady(Wait),
}

/// `Some` when no lease may be handed out whatever is queued: the frontier
/// is closed, or `max_pages` leases are out or done.
pub(super) fn stopped(closed: bool, limits: Limits, budget_used: u64, leased: u64) -> Option<Next> {
    if closed {
        return Some(Next::Finished);
    }
    if limits.max_pages.is_some_and(|max| budget_used >= max) {
        // Leases in flight may still give their place back.
        return Some(if leased == 0 {
            Next::Finished
        } else {
            Next::Wait(None)
        });
    }
    None
}

/// Gives each origin in `ring` one turn, in order, until one yields a lease;
/// an origin goes to the back of the ring while it has URLs left. `Err`
/// holds the earliest instant a waiting origin named.
pub(super) fn walk_ring<K: Copy, E>(
    ring: &mut VecDeque<K>,
    mut turn: impl FnMut(K) -> Result<Turn, E>,
) -> Result<Result<Lease, Option<Instant>>, E> {
    let mut earliest: Option<Instant> = None;
    for _ in 0..ring.len() {
        let Some(key) = ring.pop_front() else {
            break;
        };
        match turn(key)? {
            Turn::Leased { lease, more } => {
                if more {
                    ring.push_back(key);
                }
                return Ok(Ok(lease));
            }
            Turn::Skipped { more } => {
                if more {
                    ring.push_back(key);
                }
            }
            Turn::NotReady(wait) => {
                ring.push_back(key);
                if let Wait::Until(t) = wait {
                    earliest = Some(earliest.map_or(t, |e| e.min(t)));
                }
            }
        }
    }
    Ok(Err(earliest))
}

/// After a walk that leased nothing: over if nothing is queued or out.
pub(super) fn idle(queued: u64, leased: u64, earliest: Option<Instant>) -> Next {
    if queued == 0 && leased == 0 {
        Next::Finished
    } else {
        Next::Wait(earliest)
    }
}

/// Calls `next` until it leases or finishes, sleeping in between until
/// `changed` fires or the instant it named.
pub(super) async fn wait_for_lease(
    changed: &Notify,
    mut next: impl FnMut() -> Result<Next, FrontierError>,
) -> Result<Option<Lease>, FrontierError> {
    loop {
        let notified = changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        match next()? {
            Next::Lease(l) => return Ok(Some(l)),
            Next::Finished => return Ok(None),
            Next::Wait(Some(t)) => {
                tokio::select! {
                    () = &mut notified => {}
                    () = tokio::time::sleep_until(t.into()) => {}
                }
            }
            Next::Wait(None) => notified.await,
        }
    }
}
