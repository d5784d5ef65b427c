//! Files that reach their final name only when complete: written as
//! `NAME.part`, renamed by [`PartFile::commit`]. A run that dies leaves the
//! `.part` file for inspection, never a truncated file under the final name.
//!
//! A `.part` file is always created new, never opened through a link: a
//! symbolic link planted in the output directory (by anyone who can write
//! there, while collector may run as root) is removed, not followed, and
//! the rename that completes a file replaces a link at the final name
//! instead of writing into what it names.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

pub struct PartFile {
    part: PathBuf,
    target: PathBuf,
    writer: BufWriter<File>,
}

impl PartFile {
    pub fn create(target: &Path) -> io::Result<Self> {
        let part = part_path(target);
        let file = create_new(&part)?;
        Ok(Self {
            part,
            target: target.to_path_buf(),
            writer: BufWriter::with_capacity(256 * 1024, file),
        })
    }

    /// Reopens the `.part` file a stopped run left, cut back to `len`
    /// bytes (its last checkpoint), to write on from there. A file already
    /// under its final name (a run that ended, then is continued) is
    /// moved back to `.part` first.
    pub fn resume(target: &Path, len: u64) -> io::Result<Self> {
        use std::io::{Seek as _, SeekFrom};
        let part = part_path(target);
        refuse_link(&part)?;
        if !part.exists() && target.exists() {
            refuse_link(target)?;
            std::fs::rename(target, &part)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .open(&part)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", part.display())))?;
        if file.metadata()?.len() < len {
            return Err(io::Error::other(format!(
                "{} is shorter than its checkpoint ({len} bytes)",
                part.display()
            )));
        }
        file.set_len(len)?;
        file.seek(SeekFrom::End(0))?;
        Ok(Self {
            part,
            target: target.to_path_buf(),
            writer: BufWriter::with_capacity(256 * 1024, file),
        })
    }

    /// A new file (`at` is `None`) or one resumed at its checkpoint.
    pub fn open(target: &Path, at: Option<u64>) -> io::Result<Self> {
        match at {
            None => Self::create(target),
            Some(len) => Self::resume(target, len),
        }
    }

    /// Makes everything written so far durable and returns its length: a
    /// point a resumed run can cut back to.
    pub fn checkpoint(&mut self) -> io::Result<u64> {
        self.writer.flush()?;
        self.sync()
    }

    /// [`PartFile::checkpoint`] for a writer already flushed (one that
    /// owns this file and lends it only by reference).
    pub fn sync(&self) -> io::Result<u64> {
        if !self.writer.buffer().is_empty() {
            return Err(io::Error::other("internal: sync with unflushed bytes"));
        }
        let file = self.writer.get_ref();
        file.sync_data()?;
        Ok(file.metadata()?.len())
    }

    pub fn writer(&mut self) -> &mut BufWriter<File> {
        &mut self.writer
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }

    /// Flushes, syncs and renames to the final name.
    pub fn commit(self) -> io::Result<PathBuf> {
        let file = self.writer.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&self.part, &self.target)?;
        Ok(self.target)
    }
}

/// Creates `path` as a new file. Whatever had that name (an old `.part`
/// file of a killed run, or a planted link) is removed first, and
/// `create_new` fails rather than follow a link that reappears meanwhile.
fn create_new(path: &Path) -> io::Result<File> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// A resumed file must be the file itself, not a link to another one.
fn refuse_link(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(io::Error::other(format!(
            "{} is a symbolic link; output files are not written through links",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// `NAME.part` beside `NAME`.
pub fn part_path(target: &Path) -> PathBuf {
    let mut part = target.as_os_str().to_owned();
    part.push(".part");
    PathBuf::from(part)
}

/// Writes go through the buffer (for writers that own their output, such
/// as a CSV writer).
impl Write for PartFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

/// Writes a whole file atomically: `.part`, then rename.
pub fn write_atomic(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = PartFile::create(target)?;
    f.writer().write_all(bytes)?;
    f.commit().map(|_| ())
}

/// Writes `value` as pretty-printed JSON with a final newline, atomically
/// (summaries, state files).
pub fn write_json(target: &Path, value: &impl serde::Serialize) -> io::Result<()> {
    let mut json = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    json.push(b'\n');
    write_atomic(target, &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_name_appears_only_on_commit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("pages.jsonl");
        let mut f = PartFile::create(&target).expect("create");
        f.writer().write_all(b"{}\n").expect("write");
        f.flush().expect("flush");
        assert!(!target.exists());
        assert!(dir.path().join("pages.jsonl.part").exists());
        f.commit().expect("commit");
        assert_eq!(std::fs::read(&target).expect("read"), b"{}\n");
        assert!(!dir.path().join("pages.jsonl.part").exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_link_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().expect("tempdir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").expect("write");
        let target = dir.path().join("pages.jsonl");
        std::os::unix::fs::symlink(&victim, dir.path().join("pages.jsonl.part")).expect("link");
        std::os::unix::fs::symlink(&victim, &target).expect("link");
        let mut f = PartFile::create(&target).expect("create");
        f.writer().write_all(b"{}\n").expect("write");
        f.commit().expect("commit");
        assert_eq!(std::fs::read(&victim).expect("read"), b"precious");
        let meta = std::fs::symlink_metadata(&target).expect("stat");
        assert!(meta.file_type().is_file(), "the link was replaced");
        assert_eq!(std::fs::read(&target).expect("read"), b"{}\n");
        std::os::unix::fs::symlink(&victim, dir.path().join("pages.jsonl.part")).expect("link");
        let e = PartFile::resume(&target, 0)
            .err()
            .expect("a link is refused");
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read(&victim).expect("read"), b"precious");
    }

    #[test]
    fn resume_cuts_back_to_the_checkpoint() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("r.jsonl");
        let mut f = PartFile::create(&target).expect("create");
        f.writer().write_all(b"one\n").expect("write");
        let mark = f.checkpoint().expect("checkpoint");
        f.writer().write_all(b"half a line").expect("write");
        f.flush().expect("flush");
        drop(f);
        let mut f = PartFile::resume(&target, mark).expect("resume");
        f.writer().write_all(b"two\n").expect("write");
        f.commit().expect("commit");
        assert_eq!(std::fs::read(&target).expect("read"), b"one\ntwo\n");
    }
}
