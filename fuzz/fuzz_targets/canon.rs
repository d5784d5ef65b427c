//! Canonical URLs (`frontier::canon`): canonicalising is idempotent, a
//! canonical URL read back from its text is the same URL with the same
//! fingerprint, and a fragment never changes the fingerprint.
#![no_main]

use collector::frontier::{QueryPolicy, canonicalize, fingerprint};
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Relative references resolve against a page, as links do.
    let base = Url::parse("http://example.com/dir/page.html").expect("valid base");
    let Ok(parsed) = base.join(text) else {
        return;
    };
    for policy in [QueryPolicy::Keep, QueryPolicy::Sort] {
        let mut once = parsed.clone();
        canonicalize(&mut once, policy);
        let mut twice = once.clone();
        canonicalize(&mut twice, policy);
        assert_eq!(
            once.as_str(),
            twice.as_str(),
            "not idempotent ({policy:?}) on {text:?}"
        );
        assert_eq!(fingerprint(&once), fingerprint(&twice));

        let reread = Url::parse(once.as_str()).expect("a canonical URL parses");
        let mut recanon = reread.clone();
        canonicalize(&mut recanon, policy);
        assert_eq!(
            recanon.as_str(),
            once.as_str(),
            "reparsed {:?}",
            once.as_str()
        );
        assert_eq!(fingerprint(&recanon), fingerprint(&once));

        let mut with_fragment = parsed.clone();
        with_fragment.set_fragment(Some("fuzz"));
        canonicalize(&mut with_fragment, policy);
        assert_eq!(
            fingerprint(&with_fragment),
            fingerprint(&once),
            "a fragment changed the fingerprint of {text:?}"
        );
    }
});
