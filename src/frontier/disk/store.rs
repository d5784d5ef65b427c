//! The disk frontier's tables in SQLite (chosen by `benches/store.rs`), and
//! every statement run on them. Stored values are checked when read back:
//! a corrupt store is an error naming its file, never a panic.
//!
//! | table       | key             | value                                  |
//! |-------------|-----------------|----------------------------------------|
//! | `seen`      | fingerprint     | shortest depth; queue key, unless refused for depth |
//! | `queue`     | (origin, seq)   | packed depth, referrer id, path+query  |
//! | `origins`   | origin id       | `scheme://host:port`                   |
//! | `referrers` | referrer id     | the page the links were found on       |
//! | `meta`      | name            | format, identity, positions, fetched, recrawl |
//! | `pages`     | fingerprint     | origin, path, depth, referrer id, memo (`memo.rs`) |
//!
//! A queued entry stays in `queue` while it is leased and is deleted by
//! the commit that marks it done, so the store needs no lease table: after
//! a kill, whatever was leased but not committed is simply still queued.
//! The same commit copies a fetched page's entry into `pages` with its
//! memo, which a later `--recrawl` queues again ([`Store::begin_recrawl`]).
//!
//! The log is SQLite's WAL. Pushes commit without an fsync
//! (`synchronous=NORMAL`); [`Store::commit`] runs with `synchronous=FULL`,
//! whose fsync of the log makes it and every transaction before it survive
//! a power cut (<https://www.sqlite.org/pragma.html#pragma_synchronous>).
//! A kill loses no committed transaction at all. The connection holds the
//! file exclusively, so a second crawl on the same state is refused.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::frontier::FrontierError;
use crate::frontier::memo::{Memo, PageMemo};
use crate::frontier::packed::{SITEMAP_BIT, with_depth};

/// The layout above; a store of another format is refused.
const FORMAT: &[u8] = b"collector-frontier-1";

/// The referrer id of a URL found on no page (a seed).
pub const NO_REFERRER: u64 = 0;

/// SQLite's page cache, in KiB (a negative `cache_size`): the store's
/// memory, whatever the crawl's size.
const CACHE_KIB: i64 = 16 * 1024;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS seen(fp INTEGER PRIMARY KEY, depth INTEGER NOT NULL,
        origin INTEGER, seq INTEGER);
    CREATE TABLE IF NOT EXISTS origins(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS referrers(id INTEGER PRIMARY KEY, url TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS queue(
        origin INTEGER NOT NULL, seq INTEGER NOT NULL,
        depth INTEGER NOT NULL, referrer INTEGER NOT NULL, path TEXT NOT NULL,
        PRIMARY KEY(origin, seq)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS pages(fp INTEGER PRIMARY KEY, origin INTEGER NOT NULL,
        path TEXT NOT NULL, depth INTEGER NOT NULL, referrer INTEGER NOT NULL,
        memo BLOB NOT NULL);";

/// Turns a store error into one that names the file and what was being done.
pub trait At<T> {
    fn at(self, path: &Path, doing: &str) -> Result<T, FrontierError>;
}

impl<T, E: Display> At<T> for Result<T, E> {
    fn at(self, path: &Path, doing: &str) -> Result<T, FrontierError> {
        self.map_err(|e| corrupt(path, doing, e))
    }
}

pub fn corrupt(path: &Path, doing: &str, e: impl Display) -> FrontierError {
    FrontierError::Store(format!("{}: {doing}: {e}", path.display()))
}

/// A URL seen before: the shortest depth it was found at, and its queue
/// key (`None` when it was refused for its depth).
pub struct Seen {
    pub depth: u32,
    pub queued: Option<(u32, u64)>,
}

/// A queued entry read back, its referrer looked up.
pub struct Queued {
    pub seq: u64,
    pub depth: u32,
    pub referrer: Option<Arc<str>>,
    pub path: String,
}

/// What a store holds when it is opened.
pub struct Loaded {
    /// Origin id, name, first queued seq, next seq.
    pub origins: Vec<(u32, String, u64, u64)>,
    pub queued: u64,
    pub seen: u64,
    pub fetched: u64,
    pub next_referrer: u64,
    pub positions: Option<Vec<u8>>,
    /// The crawl is a recrawl: leases look up their page's memo.
    pub recrawl: bool,
}

pub struct Store {
    path: PathBuf,
    conn: Connection,
}

/// SQLite integers are signed; sequence numbers and fingerprints are
/// stored as their bit patterns.
fn int(n: u64) -> i64 {
    i64::from_ne_bytes(n.to_ne_bytes())
}

fn uint(n: i64) -> u64 {
    u64::from_ne_bytes(n.to_ne_bytes())
}

impl Store {
    /// Opens or creates the store; refuses one made for another identity.
    pub fn open(path: &Path, identity: &[u8]) -> Result<(Self, Loaded), FrontierError> {
        let doing = "opening the crawl state";
        let conn = Connection::open(path).at(path, doing)?;
        // Exclusive before WAL: no shared-memory file, and the lock is held
        // from the first transaction on.
        let setup = conn
            .pragma_update(None, "locking_mode", "EXCLUSIVE")
            .and_then(|()| {
                conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0))
            });
        match setup {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => {}
            Ok(mode) => return Err(corrupt(path, doing, format!("journal mode {mode}"))),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy =>
            {
                return Err(corrupt(path, doing, "another crawl is using it"));
            }
            Err(e) => return Err(corrupt(path, doing, e)),
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .and_then(|()| conn.pragma_update(None, "cache_size", -CACHE_KIB))
            .and_then(|()| conn.execute_batch(SCHEMA))
            .at(path, doing)?;
        let mut store = Self {
            path: path.to_path_buf(),
            conn,
        };
        let loaded = store.init(identity)?;
        Ok((store, loaded))
    }

    fn init(&mut self, identity: &[u8]) -> Result<Loaded, FrontierError> {
        let (path, doing) = (self.path.as_path(), "reading the crawl state");
        let tx = self.conn.transaction().at(path, doing)?;
        match meta(&tx, path, "format")?.as_deref() {
            None => {
                set_meta(&tx, path, "format", FORMAT)?;
                set_meta(&tx, path, "identity", identity)?;
            }
            Some(FORMAT) => {
                if meta(&tx, path, "identity")?.as_deref() != Some(identity) {
                    return Err(FrontierError::OtherCrawl(path.to_path_buf()));
                }
            }
            Some(_) => return Err(corrupt(path, doing, "not a crawl state of this version")),
        }
        let fetched = fetched(&tx, path)?;
        let positions = meta(&tx, path, "positions")?;
        let mut origins = Vec::new();
        {
            let mut names = tx
                .prepare("SELECT id, name FROM origins ORDER BY id")
                .at(path, doing)?;
            let mut ends = tx
                .prepare("SELECT min(seq), max(seq) FROM queue WHERE origin = ?1")
                .at(path, doing)?;
            let rows = names
                .query_map([], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?)))
                .at(path, doing)?;
            for row in rows {
                let (id, name) = row.at(path, doing)?;
                let (first, last): (Option<i64>, Option<i64>) = ends
                    .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .at(path, doing)?;
                let (head, tail) = match (first, last) {
                    (Some(f), Some(l)) => (uint(f), uint(l).saturating_add(1)),
                    _ => (0, 0),
                };
                origins.push((id, name, head, tail));
            }
        }
        let count = |sql: &str| -> Result<u64, FrontierError> {
            let n: i64 = tx.query_row(sql, [], |r| r.get(0)).at(path, doing)?;
            Ok(uint(n))
        };
        let queued = count("SELECT count(*) FROM queue")?;
        let seen = count("SELECT count(*) FROM seen")?;
        let next_referrer = count("SELECT coalesce(max(id), 0) + 1 FROM referrers")?;
        let recrawl = meta(&tx, path, "recrawl")?.is_some();
        tx.commit().at(path, doing)?;
        Ok(Loaded {
            origins,
            queued,
            seen,
            fetched,
            next_referrer,
            positions,
            recrawl,
        })
    }

    /// Runs `work` in one transaction, committed without an fsync.
    pub fn write<T>(
        &mut self,
        work: impl FnOnce(&mut Writer<'_>) -> Result<T, FrontierError>,
    ) -> Result<T, FrontierError> {
        let (path, doing) = (self.path.as_path(), "queueing URLs");
        let tx = self.conn.transaction().at(path, doing)?;
        let mut writer = Writer { tx, path };
        let out = work(&mut writer)?;
        writer.tx.commit().at(path, doing)?;
        Ok(out)
    }

    /// Up to `limit` entries of `origin` from `from` on, in queue order.
    pub fn read(&self, origin: u32, from: u64, limit: usize) -> Result<Vec<Queued>, FrontierError> {
        let (path, doing) = (self.path.as_path(), "reading the queue");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT q.seq, q.depth, q.path, r.url FROM queue q
                 LEFT JOIN referrers r ON r.id = q.referrer
                 WHERE q.origin = ?1 AND q.seq >= ?2 ORDER BY q.seq LIMIT ?3",
            )
            .at(path, doing)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![origin, int(from), limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, u32>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .at(path, doing)?;
        let mut out: Vec<Queued> = Vec::new();
        for row in rows {
            let (seq, depth, url_path, referrer) = row.at(path, doing)?;
            // Links of one page share its referrer string.
            let referrer = match (referrer, out.last()) {
                (None, _) => None,
                (Some(r), Some(prev)) if prev.referrer.as_deref() == Some(r.as_str()) => {
                    prev.referrer.clone()
                }
                (Some(r), _) => Some(r.into()),
            };
            out.push(Queued {
                seq: uint(seq),
                depth,
                referrer,
                path: url_path,
            });
        }
        Ok(out)
    }

    /// Deletes the done entries (`true`: fetched, counted against
    /// `max_pages`), keeps or forgets their pages' memos, stores the output
    /// positions, and syncs: one transaction. A lease committed twice is
    /// counted once.
    pub fn commit(&mut self, done: &[Done<'_>], positions: &[u8]) -> Result<(), FrontierError> {
        let (path, doing) = (self.path.as_path(), "committing");
        self.conn
            .pragma_update(None, "synchronous", "FULL")
            .at(path, doing)?;
        let committed = (|| {
            let tx = self.conn.transaction().at(path, doing)?;
            let mut fetched_now = 0u64;
            {
                let mut delete = tx
                    .prepare_cached("DELETE FROM queue WHERE origin = ?1 AND seq = ?2")
                    .at(path, doing)?;
                let mut keep = tx
                    .prepare_cached(
                        "INSERT OR REPLACE INTO pages(fp, origin, path, depth, referrer, memo)
                         SELECT ?3, origin, path, depth & ?5, referrer, ?4 FROM queue
                         WHERE origin = ?1 AND seq = ?2",
                    )
                    .at(path, doing)?;
                let mut forget = tx
                    .prepare_cached("DELETE FROM pages WHERE fp = ?1")
                    .at(path, doing)?;
                for d in done {
                    let (origin, seq) = d.key;
                    match d.page {
                        None => {}
                        Some(PageMemo::Keep { fp, memo }) => {
                            let args = params![origin, int(seq), int(*fp), memo, !SITEMAP_BIT];
                            keep.execute(args).at(path, doing)?;
                        }
                        Some(PageMemo::Forget { fp }) => {
                            forget.execute([int(*fp)]).at(path, doing)?;
                        }
                    }
                    let deleted = delete.execute(params![origin, int(seq)]).at(path, doing)?;
                    fetched_now += u64::from(deleted > 0 && d.fetched);
                }
            }
            let total = fetched(&tx, path)? + fetched_now;
            set_meta(&tx, path, "fetched", &total.to_le_bytes())?;
            set_meta(&tx, path, "positions", positions)?;
            tx.commit().at(path, doing)
        })();
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .at(path, doing)?;
        committed
    }
    /// The memo of the page with fingerprint `fp`, if the last run kept one.
    pub fn memo(&self, fp: u64) -> Result<Option<Memo>, FrontierError> {
        let (path, doing) = (self.path.as_path(), "reading a page's memo");
        let mut stmt = self
            .conn
            .prepare_cached("SELECT memo FROM pages WHERE fp = ?1")
            .at(path, doing)?;
        let blob: Option<Vec<u8>> = stmt
            .query_row([int(fp)], |r| r.get(0))
            .optional()
            .at(path, doing)?;
        blob.map(|b| Memo::decode(&b).map_err(|e| corrupt(path, doing, e)))
            .transpose()
    }

    /// Starts a recrawl of a complete crawl: the pages kept by its commits
    /// are queued again (shallowest first, with their referrers), the seen
    /// set holds only them, and the page count and output positions start
    /// over. One synced transaction; returns what the store then holds.
    pub fn begin_recrawl(&mut self) -> Result<Loaded, FrontierError> {
        let (path, doing) = (self.path.as_path(), "starting the recrawl");
        self.conn
            .pragma_update(None, "synchronous", "FULL")
            .at(path, doing)?;
        let requeued = requeue_pages(&mut self.conn, path);
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .at(path, doing)?;
        requeued?;
        self.load()
    }

    fn load(&mut self) -> Result<Loaded, FrontierError> {
        let identity = {
            let tx = self
                .conn
                .transaction()
                .at(&self.path, "reading the crawl state")?;
            meta(&tx, &self.path, "identity")?.unwrap_or_default()
        };
        self.init(&identity)
    }
}

/// One lease to commit: its queue key, whether it was fetched, and its
/// page's memo.
pub struct Done<'a> {
    pub key: (u32, u64),
    pub fetched: bool,
    pub page: Option<&'a PageMemo>,
}

/// The statements of one push transaction.
pub struct Writer<'c> {
    tx: Transaction<'c>,
    path: &'c Path,
}

impl Writer<'_> {
    pub fn seen(&self, fp: u64) -> Result<Option<Seen>, FrontierError> {
        let doing = "checking the seen set";
        let mut stmt = self
            .tx
            .prepare_cached("SELECT depth, origin, seq FROM seen WHERE fp = ?1")
            .at(self.path, doing)?;
        let row = stmt
            .query_row([int(fp)], |r| {
                Ok((
                    r.get::<_, u32>(0)?,
                    r.get::<_, Option<u32>>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                ))
            })
            .optional()
            .at(self.path, doing)?;
        Ok(row.map(|(depth, origin, seq)| Seen {
            depth,
            queued: origin.zip(seq.map(uint)),
        }))
    }

    /// Records `fp` at `depth`, queued at `key` or refused for depth.
    pub fn set_seen(
        &self,
        fp: u64,
        depth: u32,
        key: Option<(u32, u64)>,
    ) -> Result<(), FrontierError> {
        let (origin, seq) = (key.map(|k| k.0), key.map(|k| int(k.1)));
        self.run(
            "INSERT OR REPLACE INTO seen(fp, depth, origin, seq) VALUES (?1, ?2, ?3, ?4)",
            params![int(fp), depth, origin, seq],
        )
    }

    /// A shorter path reached a queued URL: its entry (if not yet
    /// committed) takes the new depth, keeping its kind bit.
    pub fn lower_depth(&self, (origin, seq): (u32, u64), depth: u32) -> Result<(), FrontierError> {
        self.run(
            "UPDATE queue SET depth = (depth & ?4) | ?3 WHERE origin = ?1 AND seq = ?2",
            params![origin, int(seq), with_depth(0, depth), SITEMAP_BIT],
        )
    }

    pub fn add_origin(&self, id: u32, name: &str) -> Result<(), FrontierError> {
        self.run(
            "INSERT INTO origins(id, name) VALUES (?1, ?2)",
            params![id, name],
        )
    }

    pub fn add_referrer(&self, id: u64, url: &str) -> Result<(), FrontierError> {
        self.run(
            "INSERT INTO referrers(id, url) VALUES (?1, ?2)",
            params![int(id), url],
        )
    }

    pub fn enqueue(
        &self,
        (origin, seq): (u32, u64),
        depth: u32,
        referrer: u64,
        url_path: &str,
    ) -> Result<(), FrontierError> {
        self.run(
            "INSERT INTO queue(origin, seq, depth, referrer, path) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![origin, int(seq), depth, int(referrer), url_path],
        )
    }

    fn run(&self, sql: &str, args: impl rusqlite::Params) -> Result<(), FrontierError> {
        let mut stmt = self.tx.prepare_cached(sql).at(self.path, "queueing URLs")?;
        stmt.execute(args).at(self.path, "queueing URLs")?;
        Ok(())
    }
}

fn meta(tx: &Transaction<'_>, path: &Path, key: &str) -> Result<Option<Vec<u8>>, FrontierError> {
    tx.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
        .at(path, "reading the crawl state")
}

fn set_meta(
    tx: &Transaction<'_>,
    path: &Path,
    key: &str,
    value: &[u8],
) -> Result<(), FrontierError> {
    tx.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)",
        params![key, value],
    )
    .map(drop)
    .at(path, "writing the crawl state")
}

fn fetched(tx: &Transaction<'_>, path: &Path) -> Result<u64, FrontierError> {
    match meta(tx, path, "fetched")? {
        None => Ok(0),
        Some(v) => v.try_into().map(u64::from_le_bytes).map_err(|_| {
            corrupt(
                path,
                "reading the crawl state",
                "the page count is malformed",
            )
        }),
    }
}

/// [`Store::begin_recrawl`]'s transaction.
fn requeue_pages(conn: &mut Connection, path: &Path) -> Result<(), FrontierError> {
    let doing = "starting the recrawl";
    let tx = conn.transaction().at(path, doing)?;
    tx.execute_batch(
        "DELETE FROM queue; DELETE FROM seen;
         DELETE FROM referrers WHERE id NOT IN (SELECT referrer FROM pages);
         DELETE FROM meta WHERE key IN ('positions', 'fetched');",
    )
    .at(path, doing)?;
    set_meta(&tx, path, "recrawl", b"1")?;
    // Queued with the push transaction's own statements.
    let w = Writer { tx, path };
    {
        let mut pages =
            w.tx.prepare("SELECT fp, origin, path, depth, referrer FROM pages ORDER BY depth, fp")
                .at(path, doing)?;
        let rows = pages
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, u32>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, u32>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })
            .at(path, doing)?;
        let mut next: std::collections::HashMap<u32, u64> = std::collections::HashMap::new();
        for row in rows {
            let (fp, origin, url_path, depth, referrer) = row.at(path, doing)?;
            let seq = next.entry(origin).or_default();
            w.enqueue((origin, *seq), depth, uint(referrer), &url_path)?;
            w.set_seen(uint(fp), depth, Some((origin, *seq)))?;
            *seq += 1;
        }
    }
    w.tx.commit().at(path, doing)
}
