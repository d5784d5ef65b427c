//! The link scanner against html5ever (`extract::differential`): a
//! document built from the input's bytes, each picking one of the
//! differential test's fragments, must give the same links and title on
//! every path; the input as raw markup must not panic either path.
#![no_main]

use collector::extract::differential::{disagreement, document, dom_path, scanner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let html = document(rest.iter().map(|&b| usize::from(b)));
        if let Some(found) = disagreement(&html) {
            panic!("{found}");
        }
    } else {
        let html = String::from_utf8_lossy(rest);
        scanner(&html);
        dom_path(&html);
    }
});
