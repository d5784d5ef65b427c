//! A crawl's output directory, made ready before the first request: created
//! when missing, refused in words when it cannot be used (a file in the
//! way, a path under a file, no permission, a read-only file system), and
//! an earlier crawl's files refused unless `--overwrite`, which removes
//! them first. I/O errors on its files are named by path ([`at`]).

use std::io;
use std::path::{Path, PathBuf};

use super::format::Format;
use super::{REPORT_FILE, SKIPPED_FILE, SUMMARY_FILE};

/// The output cannot be used as asked: bad input (exit 2), nothing fetched.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unusable(pub String);

/// Creates `dir` if missing and checks that files can be created in it.
pub fn prepare(dir: &Path) -> Result<(), Unusable> {
    let refuse = |why: String| Unusable(format!("output directory {}: {why}", dir.display()));
    if let Some(file) = dir.ancestors().find(|a| is_non_dir(a)) {
        return Err(refuse(if file == dir {
            "is a file, not a directory".to_string()
        } else {
            format!("{} is a file, not a directory", file.display())
        }));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| refuse(format!("cannot be created: {}", words(&e))))?;
    let probe = dir.join(format!(".collector-probe-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| refuse(format!("files cannot be created in it: {}", words(&e))))?;
    std::fs::remove_file(&probe).map_err(|e| refuse(words(&e)))
}

/// Something other than a directory (or a link to one) at `path`.
fn is_non_dir(path: &Path) -> bool {
    path.exists() && !path.is_dir()
}

/// The files a crawl writes in its output directory, final or `.part`.
fn crawl_files() -> impl Iterator<Item = String> {
    Format::ALL
        .iter()
        .map(|f| f.file_name())
        .chain([SKIPPED_FILE, SUMMARY_FILE, REPORT_FILE])
        .flat_map(|name| [name.to_string(), format!("{name}.part")])
}

/// The files of an earlier crawl in `dir` (links included: they are
/// never followed), in a fixed order.
pub fn earlier_files(dir: &Path) -> Vec<PathBuf> {
    crawl_files()
        .map(|name| dir.join(name))
        .filter(|p| p.symlink_metadata().is_ok())
        .collect()
}

/// Whose files an output directory may hold already.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// None: an earlier crawl's files are refused.
    Refuse,
    /// `.part` files are this crawl's own, left by a run of its `--state`
    /// killed before its first checkpoint: they are replaced; final names
    /// are refused.
    OwnParts,
    /// `--overwrite` (or `--fresh`): every earlier crawl file is removed.
    Overwrite,
}

/// Refuses a directory that holds an earlier crawl's files, naming them,
/// or removes those `claim` allows (a link is removed, not what it names).
pub fn claim(dir: &Path, claim: Claim) -> Result<(), Unusable> {
    let earlier = earlier_files(dir);
    let refused: Vec<&PathBuf> = earlier
        .iter()
        .filter(|p| match claim {
            Claim::Refuse => true,
            Claim::OwnParts => !p.to_string_lossy().ends_with(".part"),
            Claim::Overwrite => false,
        })
        .collect();
    if !refused.is_empty() {
        let names: Vec<String> = refused
            .iter()
            .filter_map(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .collect();
        return Err(Unusable(format!(
            "output directory {} already holds an earlier crawl's files ({}); --overwrite \
             removes them and crawls again, or give another --out",
            dir.display(),
            names.join(", ")
        )));
    }
    for path in earlier {
        std::fs::remove_file(&path).map_err(|e| {
            Unusable(format!(
                "could not remove {}: {}",
                path.display(),
                words(&e)
            ))
        })?;
    }
    Ok(())
}

/// An I/O error on `path`, the path and the reason in words.
pub fn at(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {}", path.display(), words(&e)))
}

/// The reason of an I/O error in words, without `(os error N)`.
pub fn words(e: &io::Error) -> String {
    use io::ErrorKind::*;
    let said = match e.kind() {
        PermissionDenied => "permission denied",
        ReadOnlyFilesystem => "the file system is read-only",
        StorageFull => "no space left on the device",
        QuotaExceeded => "the disk quota is used up",
        NotADirectory => "a part of the path is a file, not a directory",
        IsADirectory => "is a directory, not a file",
        NotFound => "no such file or directory",
        _ => return e.to_string(),
    };
    said.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_in_the_way_and_a_path_under_a_file_are_named() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let file = tmp.path().join("f");
        std::fs::write(&file, b"x").expect("write");
        let e = prepare(&file).expect_err("a file").to_string();
        assert!(e.ends_with("f: is a file, not a directory"), "{e}");
        let e = prepare(&file.join("a/b"))
            .expect_err("under a file")
            .to_string();
        assert!(
            e.contains(&format!("{} is a file, not a directory", file.display())),
            "{e}"
        );
        let ok = tmp.path().join("new/out");
        prepare(&ok).expect("created");
        assert!(ok.is_dir());
        assert_eq!(
            std::fs::read_dir(&ok).expect("read").count(),
            0,
            "no probe left"
        );
    }

    #[test]
    fn earlier_files_are_refused_by_name_or_removed_with_overwrite() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        claim(dir, Claim::Refuse).expect("an empty directory");
        std::fs::write(dir.join("pages.csv"), b"old").expect("write");
        std::fs::write(dir.join("notes.txt"), b"mine").expect("write");
        std::os::unix::fs::symlink(dir.join("notes.txt"), dir.join("summary.json.part"))
            .expect("symlink");
        let e = claim(dir, Claim::Refuse)
            .expect_err("earlier files")
            .to_string();
        assert!(e.contains("pages.csv, summary.json.part"), "{e}");
        assert!(e.contains("--overwrite"), "{e}");
        let e = claim(dir, Claim::OwnParts)
            .expect_err("a final name")
            .to_string();
        assert!(e.contains("(pages.csv)"), "{e}");
        claim(dir, Claim::Overwrite).expect("removed");
        assert!(earlier_files(dir).is_empty());
        assert_eq!(std::fs::read(dir.join("notes.txt")).expect("kept"), b"mine");
    }
}
