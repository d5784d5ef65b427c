//! Pagination detection (`api::detect::detect`) on any JSON body and
//! `Link` headers: no panic, and the same answer when asked twice.
#![no_main]

use collector::api::detect::detect;
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|data: &[u8]| {
    // Link headers, one a line, then a NUL, then the body.
    let (headers, body) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&[][..], data),
    };
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(body) else {
        return;
    };
    let headers = String::from_utf8_lossy(headers);
    let headers: Vec<&str> = headers.lines().collect();
    let current = Url::parse("https://api.example.com/v1/items").expect("valid URL");
    let first = format!("{:?}", detect(&current, &headers, &body));
    let second = format!("{:?}", detect(&current, &headers, &body));
    assert_eq!(first, second);
});
