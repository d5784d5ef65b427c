//! Config files: a crawl config (`settings::parse_file`, `[[rule]]` tables
//! compiled) and an API file (`api::resources::parse`) reject bad input
//! with an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = collector::settings::parse_file(text);
    let _ = collector::api::resources::parse(text);
});
