//! Reading WARC files back with Python's warcio, an implementation
//! independent of ours (installed by `.ci/run` into `target/warcio-venv`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Python with warcio: `WARCIO_PYTHON`, else the virtual environment
/// `.ci/run` makes, else `python3`. Panics with what to do when warcio is
/// not there.
pub fn warcio_python() -> PathBuf {
    let python = std::env::var_os("WARCIO_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/warcio-venv/bin/python3");
            venv.exists().then_some(venv)
        })
        .unwrap_or_else(|| PathBuf::from("python3"));
    let ok = Command::new(&python)
        .args(["-c", "import warcio"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{} cannot import warcio: run `bash .ci/run` (it installs warcio into \
         target/warcio-venv) or `pip install warcio`, or set WARCIO_PYTHON",
        python.display()
    );
    python
}

/// Reads a WARC file with warcio: one JSON object per record, with its
/// digests checked. Also runs `warcio check` on it.
const READ_WARC: &str = r#"
import base64, json, sys
from warcio.archiveiterator import ArchiveIterator
with open(sys.argv[1], 'rb') as f:
    it = ArchiveIterator(f, check_digests=True)
    for rec in it:
        h = rec.http_headers
        body = rec.content_stream().read()
        print(json.dumps({
            'type': rec.rec_type,
            'id': rec.rec_headers.get_header('WARC-Record-ID'),
            'concurrent_to': rec.rec_headers.get_header('WARC-Concurrent-To'),
            'uri': rec.rec_headers.get_header('WARC-Target-URI'),
            'ip': rec.rec_headers.get_header('WARC-IP-Address'),
            'date': rec.rec_headers.get_header('WARC-Date'),
            'content_type': rec.rec_headers.get_header('Content-Type'),
            'digests_passed': rec.digest_checker.passed,
            'problems': list(rec.digest_checker.problems),
            'status_line': h.statusline if h else None,
            'protocol': h.protocol if h else None,
            'headers': h.headers if h else None,
            'body': base64.b64encode(body).decode(),
        }))
"#;

pub fn read_warc(path: &Path) -> Vec<serde_json::Value> {
    let python = warcio_python();
    let o = Command::new(&python)
        .args(["-c", READ_WARC])
        .arg(path)
        .output()
        .expect("python runs");
    assert!(
        o.status.success(),
        "warcio could not read {}: {}",
        path.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    let check = Command::new(&python)
        .args([
            "-c",
            "import sys; from warcio.cli import main; main(['check', '-v', sys.argv[1]])",
        ])
        .arg(path)
        .output()
        .expect("python runs");
    assert!(
        check.status.success(),
        "warcio check failed: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    String::from_utf8(o.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect()
}

pub fn body_of(record: &serde_json::Value) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(record["body"].as_str().expect("body"))
        .expect("base64")
}
