//! Which character encoding a page is in, decoding it to UTF-8, and the
//! encoder its URLs' query strings use.
//!
//! Precedence follows the WHATWG encoding sniffing algorithm (HTML 13.2.3):
//! byte order mark, then the transport layer's `charset=`, then a prescan
//! of the first 1024 bytes for `<meta charset>`, then a guess. The guess is
//! UTF-8 when the whole body is valid UTF-8 (browsers guess from locale and
//! content; valid UTF-8 is almost never anything else) and windows-1252
//! otherwise, the Web's legacy default.

use std::borrow::Cow;

use encoding_rs::{EncoderResult, Encoding, UTF_8, WINDOWS_1252, X_USER_DEFINED};

/// How far into the body the `<meta>` prescan looks (HTML 13.2.3.2).
const PRESCAN_BYTES: usize = 1024;

/// A page's text as UTF-8 and the encoding it was decoded from.
pub(crate) struct Decoded<'a> {
    pub(crate) text: Cow<'a, str>,
    pub(crate) encoding: &'static Encoding,
}

/// Decodes `body`, borrowing it when it is already valid UTF-8 (or ASCII in
/// an ASCII-compatible encoding), which is the common case and costs one
/// validation pass.
pub(crate) fn decode<'a>(body: &'a [u8], content_type: Option<&str>) -> Decoded<'a> {
    if let Some((encoding, bom_len)) = Encoding::for_bom(body) {
        let rest = body.get(bom_len..).unwrap_or_default();
        let (text, _) = encoding.decode_without_bom_handling(rest);
        return Decoded { text, encoding };
    }
    let declared = content_type
        .and_then(charset_param)
        .and_then(Encoding::for_label)
        .or_else(|| prescan(body.get(..PRESCAN_BYTES).unwrap_or(body)));
    if let Some(encoding) = declared {
        let (text, _) = encoding.decode_without_bom_handling(body);
        return Decoded { text, encoding };
    }
    match std::str::from_utf8(body) {
        Ok(text) => Decoded {
            text: Cow::Borrowed(text),
            encoding: UTF_8,
        },
        Err(_) => {
            let (text, _) = WINDOWS_1252.decode_without_bom_handling(body);
            Decoded {
                text,
                encoding: WINDOWS_1252,
            }
        }
    }
}

/// The encoder for URL query strings of a document in `encoding`, or `None`
/// for UTF-8. The URL Standard encodes queries in the document's encoding
/// (UTF-16 documents use UTF-8), and writes a character the encoding lacks
/// as a percent-encoded `&#N;` (URL 1.3, "percent-encode after encoding").
pub(crate) fn query_encoder(encoding: &'static Encoding) -> Option<impl Fn(&str) -> Cow<'_, [u8]>> {
    let output = encoding.output_encoding();
    (output != UTF_8).then_some(higher_ranked(move |text| encode_query(output, text)))
}

/// Makes a closure's signature generic over the input's lifetime, which
/// closure inference alone does not do when the output borrows the input.
fn higher_ranked<F: Fn(&str) -> Cow<'_, [u8]>>(f: F) -> F {
    f
}

fn encode_query<'a>(encoding: &'static Encoding, text: &'a str) -> Cow<'a, [u8]> {
    let (bytes, _, unmappable) = encoding.encode(text);
    if !unmappable {
        return bytes;
    }
    let mut encoder = encoding.new_encoder();
    let mut out = Vec::with_capacity(text.len() * 2);
    let mut rest = text;
    loop {
        let (result, read) =
            encoder.encode_from_utf8_to_vec_without_replacement(rest, &mut out, true);
        rest = rest.get(read..).unwrap_or_default();
        match result {
            EncoderResult::InputEmpty => return Cow::Owned(out),
            EncoderResult::OutputFull => out.reserve(rest.len() * 2 + 16),
            EncoderResult::Unmappable(c) => {
                out.extend_from_slice(format!("%26%23{}%3B", u32::from(c)).as_bytes());
            }
        }
    }
}

/// The `charset` parameter of a MIME type (`text/html; charset="utf-8"`).
fn charset_param(content_type: &str) -> Option<&[u8]> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .map_or(value, |v| v.split('"').next().unwrap_or(v));
        Some(value.as_bytes())
    })
}

fn is_space(byte: u8) -> bool {
    matches!(byte, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

fn starts_with_ignore_case(haystack: &[u8], prefix: &[u8]) -> bool {
    haystack
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// The prescan of HTML 13.2.3.2: the encoding named by the first `<meta>`
/// that names one, skipping comments and other tags' attributes so that a
/// `charset=` inside them is not taken.
fn prescan(bytes: &[u8]) -> Option<&'static Encoding> {
    let mut pos = 0;
    while pos < bytes.len() {
        let rest = bytes.get(pos..)?;
        if rest.starts_with(b"<!--") {
            // The dashes of "<!--" may be those of "-->": `<!-->` is a comment.
            pos += 2 + memchr::memmem::find(rest.get(2..)?, b"-->")? + 2;
        } else if starts_with_ignore_case(rest, b"<meta")
            && rest.get(5).is_some_and(|&b| is_space(b) || b == b'/')
        {
            pos += 5;
            if let Some(encoding) = meta_encoding(bytes, &mut pos)? {
                return Some(encoding);
            }
        } else if rest.first() == Some(&b'<')
            && (rest.get(1).is_some_and(u8::is_ascii_alphabetic)
                || (rest.get(1) == Some(&b'/') && rest.get(2).is_some_and(u8::is_ascii_alphabetic)))
        {
            pos += rest
                .iter()
                .position(|&b| is_space(b) || b == b'>')
                .unwrap_or(rest.len());
            while get_attribute(bytes, &mut pos)?.is_some() {}
        } else if rest.starts_with(b"<!") || rest.starts_with(b"</") || rest.starts_with(b"<?") {
            pos += memchr::memchr(b'>', rest)?;
        }
        pos += 1;
    }
    None
}

/// The attributes of one `<meta>` (from just after its name): `Ok(Some)`
/// when it declares an encoding, `Ok(None)` to go on; `None` when the bytes
/// ran out, which ends the prescan.
fn meta_encoding(bytes: &[u8], pos: &mut usize) -> Option<Option<&'static Encoding>> {
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let mut got_pragma = false;
    let mut need_pragma = None;
    let mut charset = None;
    while let Some((name, value)) = get_attribute(bytes, pos)? {
        if seen.contains(&name) {
            continue;
        }
        match name.as_slice() {
            b"http-equiv" => got_pragma |= value == b"content-type",
            b"content" if charset.is_none() => {
                if let Some(encoding) = charset_from_content(&value) {
                    charset = Some(encoding);
                    need_pragma = Some(true);
                }
            }
            b"charset" => {
                charset = Encoding::for_label(&value);
                need_pragma = Some(false);
            }
            _ => {}
        }
        seen.push(name);
    }
    let encoding = match (need_pragma, charset) {
        (Some(true), Some(_)) if !got_pragma => return Some(None),
        (Some(_), Some(encoding)) => encoding,
        _ => return Some(None),
    };
    // A byte-oriented prescan cannot have found a UTF-16 document.
    Some(Some(if encoding == X_USER_DEFINED {
        WINDOWS_1252
    } else {
        encoding.output_encoding()
    }))
}

/// "Get an attribute" of HTML 13.2.3.2, names and values lowercased.
/// `None` when the bytes ran out; `Some(None)` at the tag's `>`.
fn get_attribute(bytes: &[u8], pos: &mut usize) -> Option<Option<(Vec<u8>, Vec<u8>)>> {
    let at = |pos: usize| bytes.get(pos).copied();
    while at(*pos).is_some_and(|b| is_space(b) || b == b'/') {
        *pos += 1;
    }
    if at(*pos)? == b'>' {
        return Some(None);
    }
    let mut name = Vec::new();
    let mut value = Vec::new();
    loop {
        let byte = at(*pos)?;
        if byte == b'=' && !name.is_empty() {
            *pos += 1;
            break;
        }
        if is_space(byte) {
            while at(*pos).is_some_and(is_space) {
                *pos += 1;
            }
            if at(*pos)? != b'=' {
                return Some(Some((name, value)));
            }
            *pos += 1;
            break;
        }
        if byte == b'/' || byte == b'>' {
            return Some(Some((name, value)));
        }
        name.push(byte.to_ascii_lowercase());
        *pos += 1;
    }
    while at(*pos).is_some_and(is_space) {
        *pos += 1;
    }
    let first = at(*pos)?;
    if first == b'"' || first == b'\'' {
        loop {
            *pos += 1;
            let byte = at(*pos)?;
            if byte == first {
                *pos += 1;
                return Some(Some((name, value)));
            }
            value.push(byte.to_ascii_lowercase());
        }
    }
    if first == b'>' {
        return Some(Some((name, value)));
    }
    loop {
        let byte = at(*pos)?;
        if is_space(byte) || byte == b'>' {
            return Some(Some((name, value)));
        }
        value.push(byte.to_ascii_lowercase());
        *pos += 1;
    }
}

/// The encoding in a `content="text/html; charset=..."` value (HTML
/// 2.5.4, "extracting a character encoding from a meta element").
fn charset_from_content(content: &[u8]) -> Option<&'static Encoding> {
    let mut rest = content;
    loop {
        let found = rest
            .windows(7)
            .position(|w| w.eq_ignore_ascii_case(b"charset"))?;
        rest = rest.get(found + 7..)?;
        let after_space = rest.trim_ascii_start();
        let Some(value) = after_space.strip_prefix(b"=") else {
            rest = after_space;
            continue;
        };
        let value = value.trim_ascii_start();
        return match value.first()? {
            &quote @ (b'"' | b'\'') => {
                let inner = value.get(1..)?;
                let end = memchr::memchr(quote, inner)?;
                Encoding::for_label(inner.get(..end)?)
            }
            _ => {
                let end = value
                    .iter()
                    .position(|&b| is_space(b) || b == b';')
                    .unwrap_or(value.len());
                Encoding::for_label(value.get(..end)?)
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::{ISO_8859_2, SHIFT_JIS, UTF_16LE};

    fn encoding_of(body: &[u8], content_type: Option<&str>) -> &'static str {
        decode(body, content_type).encoding.name()
    }

    #[test]
    fn bom_beats_header_and_meta() {
        let body = b"\xEF\xBB\xBF<meta charset=iso-8859-2><p>\xC3\xA9";
        let decoded = decode(body, Some("text/html; charset=shift_jis"));
        assert_eq!(decoded.encoding, UTF_8);
        assert_eq!(decoded.text, "<meta charset=iso-8859-2><p>\u{e9}");
    }

    #[test]
    fn utf16_bom() {
        let decoded = decode(b"\xFF\xFE<\0p\0>\0", None);
        assert_eq!(decoded.encoding, UTF_16LE);
        assert_eq!(decoded.text, "<p>");
    }

    #[test]
    fn header_charset_beats_meta() {
        let body = b"<meta charset=shift_jis><title>caf\xE9</title>";
        assert_eq!(
            encoding_of(body, Some("text/html;charset=ISO-8859-1")),
            "windows-1252"
        );
        assert_eq!(
            encoding_of(body, Some("text/html; charset=\"iso-8859-2\"")),
            "ISO-8859-2"
        );
    }

    #[test]
    fn unknown_header_label_falls_through_to_meta() {
        let body = b"<meta charset='iso-8859-2'>";
        assert_eq!(
            encoding_of(body, Some("text/html; charset=bogus")),
            "ISO-8859-2"
        );
    }

    #[test]
    fn meta_charset_forms() {
        let cases: &[(&[u8], &str)] = &[
            (b"<META CHARSET=\"Shift_JIS\">", "Shift_JIS"),
            (b"<meta\tcharset=iso-8859-2 />", "ISO-8859-2"),
            // Unquoted values run to whitespace or `>`: "iso-8859-2/" is no label.
            (b"<meta charset=iso-8859-2/>", "UTF-8"),
            (
                b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-2\">",
                "ISO-8859-2",
            ),
            (
                b"<meta content='text/html;charset = \"euc-jp\"' http-equiv=content-type>",
                "EUC-JP",
            ),
            // UTF-16 named by a meta is impossible in an ASCII-looking prefix.
            (b"<meta charset=utf-16le>", "UTF-8"),
            (b"<meta charset=x-user-defined>\xFF", "windows-1252"),
        ];
        for &(body, expected) in cases {
            assert_eq!(encoding_of(body, None), expected, "{}", body.escape_ascii());
        }
    }

    #[test]
    fn meta_prescan_skips_what_is_not_a_declaration() {
        let cases: &[&[u8]] = &[
            // content= without http-equiv is not a pragma.
            b"<meta content=\"text/html; charset=iso-8859-2\">",
            b"<!-- <meta charset=iso-8859-2> -->",
            b"<div title=\"<meta charset=iso-8859-2>\">",
            b"<metas charset=iso-8859-2>",
        ];
        for &body in cases {
            assert_eq!(encoding_of(body, None), "UTF-8", "{}", body.escape_ascii());
        }
    }

    #[test]
    fn meta_beyond_1024_bytes_is_not_seen() {
        let mut body = vec![b' '; 1024];
        body.extend_from_slice(b"<meta charset=iso-8859-2>");
        assert_eq!(encoding_of(&body, None), "UTF-8");
    }

    #[test]
    fn fallback_is_utf8_when_valid_else_windows_1252() {
        assert_eq!(encoding_of("<p>caf\u{e9}".as_bytes(), None), "UTF-8");
        let decoded = decode(b"<p>caf\xE9 \x80", None);
        assert_eq!(decoded.encoding, WINDOWS_1252);
        assert_eq!(decoded.text, "<p>caf\u{e9} \u{20ac}");
    }

    #[test]
    fn valid_utf8_is_borrowed() {
        let decoded = decode(b"<p>plain", Some("text/html"));
        assert!(matches!(decoded.text, Cow::Borrowed(_)));
    }

    #[test]
    fn query_encoder_uses_the_document_encoding() {
        assert!(query_encoder(UTF_8).is_none());
        assert!(query_encoder(UTF_16LE).is_none());
        let encode = query_encoder(SHIFT_JIS).expect("Shift_JIS is not UTF-8");
        assert_eq!(encode("\u{65e5}").as_ref(), b"\x93\xfa");
        let encode = query_encoder(ISO_8859_2).expect("ISO-8859-2 is not UTF-8");
        assert_eq!(encode("a\u{4e00}\u{e9}").as_ref(), b"a%26%2319968%3B\xe9");
    }
}
