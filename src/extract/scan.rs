//! A tokenizer for the part of HTML that decides where tags are: the WHATWG
//! tokenizer's states for tags, attributes, comments, CDATA and the
//! raw-text elements, without building tokens for what no caller needs.
//!
//! It jumps from `<` to `<` with `memchr` and hands the [`Visitor`] only the
//! start tags of [`Tag`] and the text of `<title>`. What a tree builder
//! would add is approximated the way tokenizer-only tools do it: the
//! elements that switch the tokenizer to RCDATA, RAWTEXT, script data or
//! PLAINTEXT are known by name. `<noscript>` is read as markup, as a browser
//! without scripting reads it, so a crawler sees its links.
//!
//! Input is UTF-8; every position where the scanner splits the text is next
//! to an ASCII byte, so slices stay on character boundaries.

use memchr::memchr;

/// Start tags the visitor is given.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Tag {
    A,
    Area,
    Base,
    Frame,
    Iframe,
    Link,
    Meta,
}

/// One attribute as written: the value is unquoted but its character
/// references are not decoded. Names compare case-insensitively.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Attr<'a> {
    pub(crate) name: &'a str,
    pub(crate) value: &'a str,
}

/// What the scan reports, in document order.
pub(crate) trait Visitor<'a> {
    /// A start tag of interest with its attributes in source order. Of a
    /// repeated name only the first counts in HTML (13.2.5.33).
    fn start_tag(&mut self, tag: Tag, attrs: &[Attr<'a>]);
    /// The raw text (references not decoded) of an HTML `<title>`; one
    /// inside `<svg>` or `<math>` is not the document's.
    fn title(&mut self, raw: &'a str);
}

/// What a start tag means to the scan.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Visit(Tag),
    Title,
    /// RCDATA and RAWTEXT: text up to the matching end tag.
    Text(&'static str),
    Script,
    Plaintext,
    Foreign,
    Other,
}

/// A tag name of up to 16 bytes as one integer, ASCII letters lowercased,
/// so that classifying the name is a few integer comparisons. Built in a
/// register: bytes stored one by one and read back as a word stall the CPU.
const fn name_key(name: &[u8]) -> u128 {
    let mut key = 0u128;
    let mut i = if name.len() < 16 { name.len() } else { 16 };
    while i > 0 {
        i -= 1;
        // `| 0x20` lowercases letters; on other bytes it may give garbage,
        // but never a letter, and every name compared against is letters.
        key = (key << 8) | (name[i] | 0x20) as u128;
    }
    key
}

fn kind(name: &[u8]) -> Kind {
    const A: u128 = name_key(b"a");
    const AREA: u128 = name_key(b"area");
    const BASE: u128 = name_key(b"base");
    const FRAME: u128 = name_key(b"frame");
    const IFRAME: u128 = name_key(b"iframe");
    const LINK: u128 = name_key(b"link");
    const META: u128 = name_key(b"meta");
    const TITLE: u128 = name_key(b"title");
    const TEXTAREA: u128 = name_key(b"textarea");
    const STYLE: u128 = name_key(b"style");
    const XMP: u128 = name_key(b"xmp");
    const NOEMBED: u128 = name_key(b"noembed");
    const NOFRAMES: u128 = name_key(b"noframes");
    const SCRIPT: u128 = name_key(b"script");
    const PLAINTEXT: u128 = name_key(b"plaintext");
    const SVG: u128 = name_key(b"svg");
    const MATH: u128 = name_key(b"math");
    if name.len() > 9 {
        return Kind::Other;
    }
    match name_key(name) {
        A => Kind::Visit(Tag::A),
        AREA => Kind::Visit(Tag::Area),
        BASE => Kind::Visit(Tag::Base),
        FRAME => Kind::Visit(Tag::Frame),
        IFRAME => Kind::Visit(Tag::Iframe),
        LINK => Kind::Visit(Tag::Link),
        META => Kind::Visit(Tag::Meta),
        TITLE => Kind::Title,
        TEXTAREA => Kind::Text("textarea"),
        STYLE => Kind::Text("style"),
        XMP => Kind::Text("xmp"),
        NOEMBED => Kind::Text("noembed"),
        NOFRAMES => Kind::Text("noframes"),
        SCRIPT => Kind::Script,
        PLAINTEXT => Kind::Plaintext,
        SVG | MATH => Kind::Foreign,
        _ => Kind::Other,
    }
}

fn is_space(byte: u8) -> bool {
    matches!(byte, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

/// Bytes that end a tag name (HTML 13.2.5.8).
fn ends_name(byte: u8) -> bool {
    is_space(byte) || byte == b'/' || byte == b'>'
}

/// Bytes that end an attribute name (13.2.5.33).
fn ends_attribute_name(byte: u8) -> bool {
    ends_name(byte) || byte == b'='
}

/// Bytes that end an unquoted attribute value (13.2.5.38).
fn ends_unquoted(byte: u8) -> bool {
    is_space(byte) || byte == b'>'
}

/// How many bytes from `from` on do not satisfy `stop`; `None` if the input
/// ends first.
fn run_until(bytes: &[u8], from: usize, stop: impl Fn(u8) -> bool) -> Option<usize> {
    bytes.get(from..)?.iter().position(|&b| stop(b))
}

/// Scans `doc`, reporting to `visitor`.
pub(crate) fn scan<'a>(doc: &'a str, visitor: &mut impl Visitor<'a>) {
    let bytes = doc.as_bytes();
    let mut attrs = Vec::new();
    // Depth of <svg>/<math>, where <title> belongs to the drawing.
    let mut foreign_depth = 0usize;
    let mut pos = 0;
    while let Some(offset) = bytes.get(pos..).and_then(|rest| memchr(b'<', rest)) {
        let lt = pos + offset;
        pos = match bytes.get(lt + 1) {
            Some(b'!') => skip_declaration(bytes, lt),
            Some(b'?') => skip_past_gt(bytes, lt + 2),
            Some(b'/') => match bytes.get(lt + 2) {
                Some(b) if b.is_ascii_alphabetic() => {
                    let name_end = name_end(bytes, lt + 3);
                    let name = bytes.get(lt + 2..name_end).unwrap_or_default();
                    if kind(name) == Kind::Foreign {
                        foreign_depth = foreign_depth.saturating_sub(1);
                    }
                    attributes(doc, name_end, None).map_or(bytes.len(), |tag| tag.end)
                }
                Some(b'>') => lt + 3,
                Some(_) => skip_past_gt(bytes, lt + 2),
                None => bytes.len(),
            },
            Some(b) if b.is_ascii_alphabetic() => {
                let name_end = name_end(bytes, lt + 2);
                let kind = kind(bytes.get(lt + 1..name_end).unwrap_or_default());
                let collect = matches!(kind, Kind::Visit(_)).then_some(&mut attrs);
                let Some(tag) = attributes(doc, name_end, collect) else {
                    // A tag cut off by the end of input is dropped (13.2.5.32).
                    break;
                };
                match kind {
                    Kind::Visit(visited) => {
                        visitor.start_tag(visited, &attrs);
                        if visited == Tag::Iframe {
                            end_of_text(doc, tag.end, "iframe").resume
                        } else {
                            tag.end
                        }
                    }
                    // In <svg> and <math> a self-closed <style/> is empty.
                    Kind::Title | Kind::Text(_) | Kind::Script
                        if foreign_depth > 0 && tag.self_closing =>
                    {
                        tag.end
                    }
                    Kind::Title => {
                        let text = end_of_text(doc, tag.end, "title");
                        if foreign_depth == 0 {
                            visitor.title(doc.get(tag.end..text.text_end).unwrap_or_default());
                        }
                        text.resume
                    }
                    Kind::Text(name) => end_of_text(doc, tag.end, name).resume,
                    Kind::Script => skip_script(doc, tag.end),
                    Kind::Plaintext => bytes.len(),
                    Kind::Foreign => {
                        foreign_depth += usize::from(!tag.self_closing);
                        tag.end
                    }
                    Kind::Other => tag.end,
                }
            }
            _ => lt + 1,
        };
    }
}

fn name_end(bytes: &[u8], from: usize) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| rest.iter().position(|&b| ends_name(b)))
        .map_or(bytes.len(), |offset| from + offset)
}

/// Just past the next `>` at or after `from`, or the end: bogus comments,
/// `<!DOCTYPE>` and `<?...>` (13.2.5.41).
fn skip_past_gt(bytes: &[u8], from: usize) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| memchr(b'>', rest))
        .map_or(bytes.len(), |offset| from + offset + 1)
}

/// `<!` at `lt`: a comment, a CDATA section or a bogus comment.
fn skip_declaration(bytes: &[u8], lt: usize) -> usize {
    let rest = bytes.get(lt..).unwrap_or_default();
    if rest.starts_with(b"<!--") {
        skip_comment(bytes, lt + 4)
    } else if rest.starts_with(b"<![CDATA[") {
        // Outside <svg>/<math> browsers end this bogus comment at the first
        // `>`; reading to `]]>` everywhere keeps CDATA text from ever
        // yielding links.
        memchr::memmem::find(rest, b"]]>").map_or(bytes.len(), |offset| lt + offset + 3)
    } else {
        skip_past_gt(bytes, lt + 2)
    }
}

/// A comment whose text starts at `start` ends at `-->` or `--!>`, and
/// `<!-->` and `<!--->` are empty comments (13.2.5.43-52).
fn skip_comment(bytes: &[u8], start: usize) -> usize {
    match (bytes.get(start), bytes.get(start + 1)) {
        (Some(b'>'), _) => return start + 1,
        (Some(b'-'), Some(b'>')) => return start + 2,
        _ => {}
    }
    let mut from = start;
    while let Some(offset) = bytes.get(from..).and_then(|rest| memchr(b'>', rest)) {
        let gt = from + offset;
        let before = |n: usize| gt.checked_sub(n).filter(|&at| at >= start);
        let ends = before(2).is_some_and(|at| bytes.get(at..gt) == Some(b"--"))
            || before(3).is_some_and(|at| bytes.get(at..gt) == Some(b"--!"));
        if ends {
            return gt + 1;
        }
        from = gt + 1;
    }
    bytes.len()
}

/// Where a start or end tag ends.
struct TagEnd {
    /// Just past its `>`.
    end: usize,
    self_closing: bool,
}

/// Reads attributes from `pos` (just after the tag name) to the tag's `>`,
/// pushing them into `collect` when given. `None` when the input ends
/// inside the tag (13.2.5.32-42).
fn attributes<'a>(
    doc: &'a str,
    mut pos: usize,
    mut collect: Option<&mut Vec<Attr<'a>>>,
) -> Option<TagEnd> {
    let bytes = doc.as_bytes();
    if let Some(attrs) = collect.as_deref_mut() {
        attrs.clear();
    }
    loop {
        // Before the attribute name, a `/` not followed by `>` is ignored.
        let skipped = run_until(bytes, pos, |b| !is_space(b) && b != b'/')?;
        pos += skipped;
        if *bytes.get(pos)? == b'>' {
            return Some(TagEnd {
                end: pos + 1,
                self_closing: skipped > 0 && bytes.get(pos - 1) == Some(&b'/'),
            });
        }
        // A name may start with `=` (13.2.5.32).
        let name_start = pos;
        pos += 1 + run_until(bytes, pos + 1, ends_attribute_name)?;
        let name_end = pos;
        pos += run_until(bytes, pos, |b| !is_space(b))?;
        let mut value = (pos, pos);
        if bytes.get(pos) == Some(&b'=') {
            pos += 1;
            pos += run_until(bytes, pos, |b| !is_space(b))?;
            match *bytes.get(pos)? {
                quote @ (b'"' | b'\'') => {
                    let len = memchr(quote, bytes.get(pos + 1..)?)?;
                    value = (pos + 1, pos + 1 + len);
                    pos += len + 2;
                }
                // `<a href=>`: an empty value; the `>` ends the tag.
                b'>' => {}
                _ => {
                    let len = run_until(bytes, pos, ends_unquoted)?;
                    value = (pos, pos + len);
                    pos += len;
                }
            }
        }
        // Repeats are kept: finding the first is the reader's job, and
        // checking each push would be quadratic in a hostile tag.
        if let Some(attrs) = collect.as_deref_mut() {
            attrs.push(Attr {
                name: doc.get(name_start..name_end).unwrap_or_default(),
                value: doc.get(value.0..value.1).unwrap_or_default(),
            });
        }
    }
}

/// Where the text of an RCDATA or RAWTEXT element ends.
struct TextEnd {
    /// Where its end tag starts (or the end of input).
    text_end: usize,
    /// Just past its end tag.
    resume: usize,
}

/// The text from `from` up to `</name` followed by a byte that ends a tag
/// name: the "appropriate end tag" of 13.2.5.11-13, found case-insensitively.
fn end_of_text(doc: &str, from: usize, name: &str) -> TextEnd {
    let bytes = doc.as_bytes();
    let mut pos = from;
    while let Some(offset) = bytes.get(pos..).and_then(|rest| memchr(b'<', rest)) {
        let lt = pos + offset;
        if let Some(after) = end_tag_name(bytes, lt, name) {
            let resume = attributes(doc, after, None).map_or(bytes.len(), |tag| tag.end);
            return TextEnd {
                text_end: lt,
                resume,
            };
        }
        pos = lt + 1;
    }
    TextEnd {
        text_end: bytes.len(),
        resume: bytes.len(),
    }
}

/// If `</name` plus a name-ending byte is at `lt`, the position after `name`.
fn end_tag_name(bytes: &[u8], lt: usize, name: &str) -> Option<usize> {
    let after = lt + 2 + name.len();
    let matches = bytes.get(lt + 1) == Some(&b'/')
        && bytes
            .get(lt + 2..after)
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
        && bytes.get(after).copied().is_some_and(ends_name);
    matches.then_some(after)
}

/// Where `<script>`'s content ends, following the script data states
/// (13.2.5.4, 13.2.5.15-31): inside `<!--`, a `<script>` start tag makes
/// `</script>` close only that inner tag, so the content goes on.
fn skip_script(doc: &str, from: usize) -> usize {
    let bytes = doc.as_bytes();
    let mut pos = from;
    while let Some(offset) = bytes.get(pos..).and_then(|rest| memchr(b'<', rest)) {
        let lt = pos + offset;
        if let Some(after) = end_tag_name(bytes, lt, "script") {
            return attributes(doc, after, None).map_or(bytes.len(), |tag| tag.end);
        }
        pos = if bytes.get(lt..lt + 4) == Some(b"<!--") {
            match skip_escaped_script(bytes, lt + 4) {
                Escaped::Resume(at) => at,
                Escaped::EndTag(after) => {
                    return attributes(doc, after, None).map_or(bytes.len(), |tag| tag.end);
                }
            }
        } else {
            lt + 1
        };
    }
    bytes.len()
}

enum Escaped {
    /// `-->` closed the escape; script data goes on here.
    Resume(usize),
    /// `</script` ended the element; its attributes start here.
    EndTag(usize),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dashes {
    None,
    One,
    Two,
}

/// The script data escaped and double escaped states, from just after the
/// `<!--` (which already counts as the two dashes before a closing `>`).
fn skip_escaped_script(bytes: &[u8], from: usize) -> Escaped {
    let mut pos = from;
    let mut dashes = Dashes::Two;
    let mut double = false;
    while let Some(&byte) = bytes.get(pos) {
        match byte {
            b'-' => {
                dashes = if dashes == Dashes::None {
                    Dashes::One
                } else {
                    Dashes::Two
                };
                pos += 1;
            }
            b'>' if dashes == Dashes::Two => return Escaped::Resume(pos + 1),
            b'<' => {
                dashes = Dashes::None;
                if bytes.get(pos + 1) == Some(&b'/') {
                    if let Some(after) = end_tag_name(bytes, pos, "script") {
                        if !double {
                            return Escaped::EndTag(after);
                        }
                        // Ends the double escape; the name-ending byte is text.
                        double = false;
                        pos = after + 1;
                        continue;
                    }
                } else if !double && starts_script_tag(bytes, pos + 1) {
                    double = true;
                    pos += 1 + "script".len() + 1;
                    continue;
                }
                pos += 1;
            }
            _ => {
                dashes = Dashes::None;
                // Only `-` and `<` change state from here; jump to the next.
                pos = bytes
                    .get(pos + 1..)
                    .and_then(|rest| memchr::memchr2(b'-', b'<', rest))
                    .map_or(bytes.len(), |offset| pos + 1 + offset);
            }
        }
    }
    Escaped::Resume(bytes.len())
}

/// Whether `script` plus a name-ending byte starts at `at`.
fn starts_script_tag(bytes: &[u8], at: usize) -> bool {
    let after = at + "script".len();
    bytes
        .get(at..after)
        .is_some_and(|n| n.eq_ignore_ascii_case(b"script"))
        && bytes.get(after).copied().is_some_and(ends_name)
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
