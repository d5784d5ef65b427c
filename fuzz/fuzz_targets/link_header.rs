//! RFC 8288 `Link` headers (`api::link_header::next_link`): no panic; a
//! next link found reads back as the same URL; a well-formed `next` link in
//! a header of its own before the input's headers is always the one found.
#![no_main]

use collector::api::link_header::next_link;
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let base = Url::parse("https://api.example.com/items?page=2").expect("valid URL");
    // Each line is one header, as a response may carry several.
    let headers: Vec<&str> = text.split('\n').collect();
    if let Some(next) = next_link(&headers, &base) {
        assert_eq!(Url::parse(next.as_str()).as_ref(), Ok(&next));
    }
    let mut first = vec![r#"<https://api.example.com/items?page=3>; rel="next""#];
    first.extend(&headers);
    let found = next_link(&first, &base).map(String::from);
    assert_eq!(
        found.as_deref(),
        Some("https://api.example.com/items?page=3")
    );
});
