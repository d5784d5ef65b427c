//! robots.txt verdicts through the public API only
//! (`RobotsRules::from_response`, `allows`): no panic, and the verdict for
//! a path is the same however often it is asked and from however many
//! parses of the same file.
#![no_main]

use collector::politeness::robots::{RobotsResponse, RobotsRules};
use libfuzzer_sys::fuzz_target;

/// Paths asked about besides those the input names.
const PATHS: &[&str] = &[
    "/",
    "/index.html",
    "/private/x",
    "/a?b=c",
    "/%7Euser",
    "*",
    "",
];

fuzz_target!(|data: &[u8]| {
    // The last line names one more path to ask about (and stays in the file).
    let tail = data.rsplit(|&b| b == b'\n').next().unwrap_or_default();
    let extra = String::from_utf8_lossy(tail);
    let body = RobotsResponse::Body(data.to_vec());
    let first = RobotsRules::from_response(&body, "collector");
    let second = RobotsRules::from_response(&body, "collector");
    for path in PATHS.iter().copied().chain([extra.as_ref()]) {
        let verdict = first.allows(path);
        assert_eq!(verdict, first.allows(path), "asked twice: {path:?}");
        assert_eq!(verdict, second.allows(path), "parsed twice: {path:?}");
        let absolute = format!("http://example.com{path}");
        assert_eq!(first.allows(&absolute), second.allows(&absolute));
    }
});
