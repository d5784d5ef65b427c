//! Config files: a crawl config (`crawl::settings::parse_file`, `[[rule]]`
//! tables compiled, then validated into settings) and an API file
//! (`api::resources::parse`) reject bad input with an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let name = std::path::Path::new("fuzz.toml");
    if let Ok(options) = collector::crawl::settings::parse_file(text, name) {
        let mut layered = collector::crawl::options::Layered::default();
        layered.under(options, &collector::config::Origin::file(name));
        let seed = url::Url::parse("http://example.com/").expect("seed");
        let _ = collector::crawl::settings::build(&layered, vec![seed]);
    }
    let _ = collector::api::resources::parse(text, name);
});
