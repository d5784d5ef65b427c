//! Which embedded store holds the on-disk frontier: redb, fjall and SQLite
//! on the frontier's own workload, with the same table layout in each.
//!
//! - push: a batch of 100 candidates (a quarter already seen) checked and
//!   inserted into the seen set and appended to their origin's queue, in
//!   one transaction that is not synced on its own;
//! - lease: the next queued entry of an origin, read from a per-origin
//!   cursor (a lease writes nothing: a queued entry stays on disk until the
//!   commit that marks it done, so a kill re-queues it by itself);
//! - commit: 64 leased entries deleted and the output positions stored, in
//!   one fsync'd transaction, which also makes every push before it durable;
//! - crawl: per page one lease and one push of 50 links, a commit every 64.
//!
//! Each store runs in a child process that exits without closing the store
//! after its last commit, as `kill -9` would; the parent reopens it and
//! counts the queue: "recover" is that crash recovery.
//!
//!     cargo bench --bench store [-- URLS]      (default 1,000,000; 1,000 origins)
//!
//! One run on the 2-core development machine, shared with three other
//! builds (load average 11), so absolute numbers are low and noisy; each
//! fill stopped at its 30 s limit before 1,000,000 URLs:
//!
//! | store                    | redb 2.6      | fjall 2.11    | SQLite 3 (rusqlite 0.40) |
//! |--------------------------|---------------|---------------|--------------------------|
//! | push, candidates/s       | 9,479         | 27,839        | 16,204                   |
//! | URLs queued in 30 s      | 215,025       | 626,625       | 364,725                  |
//! | bytes on disk per URL    | 629           | 119           | 79                       |
//! | leases/s (commit per 64) | 8,981         | 15,442        | 16,483                   |
//! | durable commits/s        | 147 (6.8 ms)  | 364 (2.7 ms)  | 275 (3.6 ms)             |
//! | crawl, pages/s           | 187           | 356           | 202                      |
//! | clean reopen             | 27 ms         | 53,435 ms     | 31 ms                    |
//! | reopen after a kill      | 79 ms         | 23,103 ms     | 209 ms                   |
//!
//! redb rewrites every B-tree page a transaction touches and frees the old
//! ones only at a durable commit: unsynced push transactions cost it 8x
//! the disk of SQLite. fjall, a log-structured tree, writes fastest but
//! reopens slowly: its queue heads are runs of deletion markers that the
//! per-origin scans step over, and `len` walks the whole tree. SQLite has
//! the smallest file, fast recovery, and the best-documented guarantee
//! (WAL with `synchronous=FULL`: a commit that returned survives power
//! loss); the disk frontier uses it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const ORIGINS: u32 = 1000;
const PUSH_BATCH: usize = 100;
const COMMIT_LEASES: usize = 64;
const PHASE_LIMIT: Duration = Duration::from_secs(30);

type BoxError = Box<dyn std::error::Error>;

/// One queued entry as the frontier stores it: depth, referrer id, path.
struct Cand {
    fp: u64,
    origin: u32,
    value: Vec<u8>,
}

fn cand(i: u64) -> Cand {
    let origin = (i % u64::from(ORIGINS)) as u32;
    let path = format!("/d{}/page{i}.html", i / 1000 % 100);
    let url = format!("http://host{origin}.example:8080{path}");
    let mut value = Vec::with_capacity(12 + path.len());
    value.extend(3u32.to_le_bytes());
    value.extend((i / 50).to_le_bytes());
    value.extend(path.as_bytes());
    Cand {
        fp: xxhash_rust::xxh3::xxh3_64(url.as_bytes()),
        origin,
        value,
    }
}

/// A batch of `n` candidates starting at URL `next`, every fourth one a URL
/// seen before; returns the batch and the next new URL.
fn batch(next: u64, n: usize, rng: &mut fastrand::Rng) -> (Vec<Cand>, u64) {
    let mut out = Vec::with_capacity(n);
    let mut i = next;
    for k in 0..n {
        if k % 4 == 3 && i > 0 {
            out.push(cand(rng.u64(0..i)));
        } else {
            out.push(cand(i));
            i += 1;
        }
    }
    (out, i)
}

fn queue_key(origin: u32, seq: u64) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..4].copy_from_slice(&origin.to_be_bytes());
    k[4..].copy_from_slice(&seq.to_be_bytes());
    k
}

trait Store {
    /// Seen check-and-insert and queue append, in one unsynced transaction;
    /// `tails` holds each origin's next sequence number. Returns the count admitted.
    fn push(&mut self, batch: &[Cand], tails: &mut [u64]) -> Result<usize, BoxError>;
    /// The first queued sequence number of `origin` at or after `from`.
    fn next(&mut self, origin: u32, from: u64) -> Result<Option<u64>, BoxError>;
    /// Deletes the done entries and stores the positions, fsync'd.
    fn commit(&mut self, done: &[(u32, u64)], positions: &[u8]) -> Result<(), BoxError>;
    /// What a reopen needs: each origin's first and last sequence, and the count.
    fn recover(&mut self) -> Result<(Vec<(u64, u64)>, u64), BoxError>;
}

mod redb_store {
    use redb::{Database, Durability, ReadableTableMetadata, TableDefinition};

    use super::{BoxError, Cand, ORIGINS, Store};

    const SEEN: TableDefinition<u64, u8> = TableDefinition::new("seen");
    const QUEUE: TableDefinition<(u32, u64), &[u8]> = TableDefinition::new("queue");
    const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

    pub struct Redb(Database);

    pub fn open(dir: &std::path::Path) -> Result<Redb, BoxError> {
        let db = Database::builder()
            .set_cache_size(64 << 20)
            .create(dir.join("state.redb"))?;
        Ok(Redb(db))
    }

    impl Store for Redb {
        fn push(&mut self, batch: &[Cand], tails: &mut [u64]) -> Result<usize, BoxError> {
            let mut txn = self.0.begin_write()?;
            txn.set_durability(Durability::None);
            let mut admitted = 0;
            {
                let mut seen = txn.open_table(SEEN)?;
                let mut queue = txn.open_table(QUEUE)?;
                for c in batch {
                    if seen.insert(c.fp, 0)?.is_some() {
                        continue;
                    }
                    let tail = &mut tails[c.origin as usize];
                    queue.insert((c.origin, *tail), c.value.as_slice())?;
                    *tail += 1;
                    admitted += 1;
                }
            }
            txn.commit()?;
            Ok(admitted)
        }

        fn next(&mut self, origin: u32, from: u64) -> Result<Option<u64>, BoxError> {
            let txn = self.0.begin_read()?;
            let queue = txn.open_table(QUEUE)?;
            let mut range = queue.range((origin, from)..=(origin, u64::MAX))?;
            Ok(match range.next() {
                Some(entry) => Some(entry?.0.value().1),
                None => None,
            })
        }

        fn commit(&mut self, done: &[(u32, u64)], positions: &[u8]) -> Result<(), BoxError> {
            let txn = self.0.begin_write()?;
            {
                let mut queue = txn.open_table(QUEUE)?;
                for &key in done {
                    queue.remove(key)?;
                }
                txn.open_table(META)?.insert("positions", positions)?;
            }
            txn.commit()?;
            Ok(())
        }

        fn recover(&mut self) -> Result<(Vec<(u64, u64)>, u64), BoxError> {
            let txn = self.0.begin_read()?;
            let queue = txn.open_table(QUEUE)?;
            let mut ends = Vec::new();
            for o in 0..ORIGINS {
                let mut range = queue.range((o, 0)..=(o, u64::MAX))?;
                let first = range.next().transpose()?.map_or(0, |e| e.0.value().1);
                let last = range
                    .next_back()
                    .transpose()?
                    .map_or(first, |e| e.0.value().1);
                ends.push((first, last));
            }
            Ok((ends, queue.len()?))
        }
    }
}

mod fjall_store {
    use fjall::{Config, Keyspace, PartitionCreateOptions, PartitionHandle, PersistMode};

    use super::{BoxError, Cand, ORIGINS, Store, queue_key};

    pub struct Fjall {
        keyspace: Keyspace,
        seen: PartitionHandle,
        queue: PartitionHandle,
        meta: PartitionHandle,
    }

    pub fn open(dir: &std::path::Path) -> Result<Fjall, BoxError> {
        let keyspace = Config::new(dir.join("state.fjall"))
            .cache_size(64 << 20)
            .open()?;
        let seen = keyspace.open_partition("seen", PartitionCreateOptions::default())?;
        let queue = keyspace.open_partition("queue", PartitionCreateOptions::default())?;
        let meta = keyspace.open_partition("meta", PartitionCreateOptions::default())?;
        Ok(Fjall {
            keyspace,
            seen,
            queue,
            meta,
        })
    }

    impl Store for Fjall {
        fn push(&mut self, batch: &[Cand], tails: &mut [u64]) -> Result<usize, BoxError> {
            // A batch does not read its own writes: dedup within it by hand.
            let mut fresh = std::collections::HashSet::new();
            let mut b = self.keyspace.batch();
            let mut admitted = 0;
            for c in batch {
                if !fresh.insert(c.fp) || self.seen.get(c.fp.to_be_bytes())?.is_some() {
                    continue;
                }
                b.insert(&self.seen, c.fp.to_be_bytes(), [0u8]);
                let tail = &mut tails[c.origin as usize];
                b.insert(&self.queue, queue_key(c.origin, *tail), c.value.as_slice());
                *tail += 1;
                admitted += 1;
            }
            b.commit()?;
            Ok(admitted)
        }

        fn next(&mut self, origin: u32, from: u64) -> Result<Option<u64>, BoxError> {
            let mut range = self
                .queue
                .range(queue_key(origin, from)..=queue_key(origin, u64::MAX));
            Ok(match range.next() {
                Some(kv) => Some(seq_of(&kv?.0)),
                None => None,
            })
        }

        fn commit(&mut self, done: &[(u32, u64)], positions: &[u8]) -> Result<(), BoxError> {
            let mut b = self.keyspace.batch().durability(Some(PersistMode::SyncAll));
            for &(o, s) in done {
                b.remove(&self.queue, queue_key(o, s));
            }
            b.insert(&self.meta, "positions", positions);
            b.commit()?;
            Ok(())
        }

        fn recover(&mut self) -> Result<(Vec<(u64, u64)>, u64), BoxError> {
            let mut ends = Vec::new();
            for o in 0..ORIGINS {
                let mut range = self.queue.range(queue_key(o, 0)..=queue_key(o, u64::MAX));
                let first = range.next().transpose()?.map_or(0, |kv| seq_of(&kv.0));
                let last = range
                    .next_back()
                    .transpose()?
                    .map_or(first, |kv| seq_of(&kv.0));
                ends.push((first, last));
            }
            // `len` walks the whole tree: an LSM tree keeps no exact count.
            Ok((ends, self.queue.len()? as u64))
        }
    }

    fn seq_of(key: &[u8]) -> u64 {
        key.get(4..12)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_be_bytes)
    }
}

mod sqlite_store {
    use rusqlite::{Connection, OptionalExtension, params};

    use super::{BoxError, Cand, ORIGINS, Store};

    pub struct Sqlite(Connection);

    pub fn open(dir: &std::path::Path) -> Result<Sqlite, BoxError> {
        let conn = Connection::open(dir.join("state.sqlite"))?;
        // WAL: a commit appends to the log; synchronous is NORMAL for pushes
        // (no fsync) and FULL for the durable commit, whose fsync of the log
        // covers every transaction before it.
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous=NORMAL;
             PRAGMA cache_size=-65536;
             CREATE TABLE IF NOT EXISTS seen(fp INTEGER PRIMARY KEY, flag INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS queue(origin INTEGER NOT NULL, seq INTEGER NOT NULL,
                 entry BLOB NOT NULL, PRIMARY KEY(origin, seq)) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);",
        )?;
        Ok(Sqlite(conn))
    }

    impl Store for Sqlite {
        fn push(&mut self, batch: &[Cand], tails: &mut [u64]) -> Result<usize, BoxError> {
            let txn = self.0.transaction()?;
            let mut admitted = 0;
            {
                let mut seen = txn.prepare_cached("INSERT OR IGNORE INTO seen VALUES (?1, 0)")?;
                let mut queue = txn.prepare_cached("INSERT INTO queue VALUES (?1, ?2, ?3)")?;
                for c in batch {
                    if seen.execute(params![c.fp as i64])? == 0 {
                        continue;
                    }
                    let tail = &mut tails[c.origin as usize];
                    queue.execute(params![c.origin, *tail as i64, c.value])?;
                    *tail += 1;
                    admitted += 1;
                }
            }
            txn.commit()?;
            Ok(admitted)
        }

        fn next(&mut self, origin: u32, from: u64) -> Result<Option<u64>, BoxError> {
            let mut stmt = self.0.prepare_cached(
                "SELECT seq FROM queue WHERE origin = ?1 AND seq >= ?2 ORDER BY seq LIMIT 1",
            )?;
            let seq: Option<i64> = stmt
                .query_row(params![origin, from as i64], |r| r.get(0))
                .optional()?;
            Ok(seq.map(|s| s as u64))
        }

        fn commit(&mut self, done: &[(u32, u64)], positions: &[u8]) -> Result<(), BoxError> {
            self.0.execute_batch("PRAGMA synchronous=FULL")?;
            let txn = self.0.transaction()?;
            {
                let mut del =
                    txn.prepare_cached("DELETE FROM queue WHERE origin = ?1 AND seq = ?2")?;
                for &(o, s) in done {
                    del.execute(params![o, s as i64])?;
                }
                txn.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('positions', ?1)",
                    params![positions],
                )?;
            }
            txn.commit()?;
            self.0.execute_batch("PRAGMA synchronous=NORMAL")?;
            Ok(())
        }

        fn recover(&mut self) -> Result<(Vec<(u64, u64)>, u64), BoxError> {
            let mut stmt = self
                .0
                .prepare("SELECT min(seq), max(seq) FROM queue WHERE origin = ?1")?;
            let mut ends = Vec::new();
            for o in 0..ORIGINS {
                let (first, last): (Option<i64>, Option<i64>) =
                    stmt.query_row(params![o], |r| Ok((r.get(0)?, r.get(1)?)))?;
                ends.push((first.unwrap_or(0) as u64, last.unwrap_or(0) as u64));
            }
            let count: i64 = self
                .0
                .query_row("SELECT count(*) FROM queue", [], |r| r.get(0))?;
            Ok((ends, count as u64))
        }
    }
}

fn open(name: &str, dir: &Path) -> Result<Box<dyn Store>, BoxError> {
    Ok(match name {
        "redb" => Box::new(redb_store::open(dir)?),
        "fjall" => Box::new(fjall_store::open(dir)?),
        "sqlite" => Box::new(sqlite_store::open(dir)?),
        other => return Err(format!("unknown store {other}").into()),
    })
}

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Leases the next entry round-robin over origins from `cursors`.
fn lease_one(
    store: &mut dyn Store,
    cursors: &mut [u64],
    turn: &mut u32,
) -> Result<Option<(u32, u64)>, BoxError> {
    for _ in 0..ORIGINS {
        let o = *turn;
        *turn = (*turn + 1) % ORIGINS;
        if let Some(seq) = store.next(o, cursors[o as usize])? {
            cursors[o as usize] = seq + 1;
            return Ok(Some((o, seq)));
        }
    }
    Ok(None)
}

/// The child: fill, lease and commit, crawl, then exit without closing.
fn child(name: &str, dir: &Path, urls: u64) -> Result<(), BoxError> {
    let mut store = open(name, dir)?;
    let mut tails = vec![0u64; ORIGINS as usize];
    let mut rng = fastrand::Rng::with_seed(7);
    let positions = [0u8; 48];

    // Fill: pushes, with a durable commit every 64 batches as a crawl would.
    let started = Instant::now();
    let (mut next, mut candidates, mut queued, mut batches) = (0u64, 0u64, 0u64, 0u64);
    while next < urls && started.elapsed() < PHASE_LIMIT {
        let (b, n) = batch(next, PUSH_BATCH, &mut rng);
        next = n;
        candidates += b.len() as u64;
        queued += store.push(&b, &mut tails)? as u64;
        batches += 1;
        if batches % COMMIT_LEASES as u64 == 0 {
            store.commit(&[], &positions)?;
        }
    }
    store.commit(&[], &positions)?;
    let fill = started.elapsed().as_secs_f64();
    let on_disk = dir_bytes(dir);
    println!(
        "{name}: push {queued} URLs ({candidates} candidates) in {fill:.1} s: \
         {:.0} candidates/s; {} bytes on disk, {:.1} bytes per URL",
        candidates as f64 / fill,
        on_disk,
        on_disk as f64 / queued.max(1) as f64
    );

    // Lease and commit: 64 leases, then one durable commit of them.
    let mut cursors = vec![0u64; ORIGINS as usize];
    let mut turn = 0;
    let started = Instant::now();
    let (mut leases, mut commits, mut in_commit) = (0u64, 0u64, Duration::ZERO);
    'lease: while started.elapsed() < PHASE_LIMIT.min(Duration::from_secs(10)) {
        let mut done = Vec::with_capacity(COMMIT_LEASES);
        for _ in 0..COMMIT_LEASES {
            match lease_one(store.as_mut(), &mut cursors, &mut turn)? {
                Some(l) => done.push(l),
                None => break 'lease,
            }
        }
        leases += done.len() as u64;
        let t = Instant::now();
        store.commit(&done, &positions)?;
        in_commit += t.elapsed();
        commits += 1;
    }
    let spent = started.elapsed().as_secs_f64();
    println!(
        "{name}: lease {leases} with a commit every {COMMIT_LEASES}: {:.0} leases/s; \
         {:.0} commits/s ({:.2} ms each)",
        leases as f64 / spent,
        commits as f64 / in_commit.as_secs_f64(),
        in_commit.as_secs_f64() * 1000.0 / commits.max(1) as f64
    );

    // Crawl: per page one lease and 50 links pushed; a commit every 64 pages.
    let started = Instant::now();
    let mut pages = 0u64;
    let mut done = Vec::with_capacity(COMMIT_LEASES);
    while started.elapsed() < Duration::from_secs(10) {
        let Some(l) = lease_one(store.as_mut(), &mut cursors, &mut turn)? else {
            break;
        };
        done.push(l);
        let (b, n) = batch(next, PUSH_BATCH / 2, &mut rng);
        next = n;
        store.push(&b, &mut tails)?;
        pages += 1;
        if done.len() == COMMIT_LEASES {
            store.commit(&done, &positions)?;
            done.clear();
        }
    }
    store.commit(&done, &positions)?;
    println!(
        "{name}: crawl {pages} pages (1 lease + 50 links each): {:.0} pages/s",
        pages as f64 / started.elapsed().as_secs_f64()
    );

    // Clean reopen.
    drop(store);
    let t = Instant::now();
    let mut store = open(name, dir)?;
    let (_, count) = store.recover()?;
    println!(
        "{name}: clean reopen: {:.0} ms ({count} queued)",
        t.elapsed().as_secs_f64() * 1000.0
    );
    // Unsynced pushes after the last commit, then an exit without closing.
    for _ in 0..10 {
        let (b, n) = batch(next, PUSH_BATCH, &mut rng);
        next = n;
        store.push(&b, &mut tails)?;
    }
    std::process::exit(0);
}

fn recover(name: &str, dir: &Path) -> Result<(), BoxError> {
    let t = Instant::now();
    let mut store = open(name, dir)?;
    let (ends, count) = store.recover()?;
    println!(
        "{name}: reopen after a kill: {:.0} ms ({count} queued, {} origins with URLs)",
        t.elapsed().as_secs_f64() * 1000.0,
        ends.iter().filter(|(f, l)| l > f).count()
    );
    Ok(())
}

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, name, dir, urls] = args.as_slice()
        && flag == "--child"
    {
        return child(name, Path::new(dir), urls.parse()?);
    }
    let urls: u64 = args
        .iter()
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let stores: Vec<&str> = ["redb", "fjall", "sqlite"]
        .into_iter()
        .filter(|s| {
            args.iter().all(|a| !a.starts_with("--only=")) || args.contains(&format!("--only={s}"))
        })
        .collect();
    let exe = std::env::current_exe()?;
    for name in stores {
        let tmp = tempfile::tempdir()?;
        let dir: PathBuf = tmp.path().to_path_buf();
        let status = Command::new(&exe)
            .args(["--child", name, &dir.to_string_lossy(), &urls.to_string()])
            .status()?;
        if !status.success() {
            eprintln!("{name}: child failed: {status}");
            continue;
        }
        recover(name, &dir)?;
        println!("{name}: {} bytes on disk at the end", dir_bytes(&dir));
    }
    Ok(())
}
