//! Tests of the scanner (`scan.rs`).

use super::*;

/// Records what the scan reports: `tag name=value ...` lines and titles.
#[derive(Default)]
struct Recorder {
    seen: Vec<String>,
}

impl<'a> Visitor<'a> for Recorder {
    fn start_tag(&mut self, tag: Tag, attrs: &[Attr<'a>]) {
        let mut line = format!("{tag:?}");
        for attr in attrs {
            line.push_str(&format!(" {}={}", attr.name, attr.value));
        }
        self.seen.push(line);
    }

    fn title(&mut self, raw: &'a str) {
        self.seen.push(format!("title:{raw}"));
    }
}

fn seen(doc: &str) -> Vec<String> {
    let mut recorder = Recorder::default();
    scan(doc, &mut recorder);
    recorder.seen
}

#[test]
fn attribute_syntaxes() {
    assert_eq!(
        seen(r#"<a href="x y" rel='a "b"' title=plain data-x checked>"#),
        ["A href=x y rel=a \"b\" title=plain data-x= checked="]
    );
    assert_eq!(seen("<A HREF = /up >"), ["A HREF=/up"]);
    assert_eq!(seen("<a\nhref=/a\tHREF=/b>"), ["A href=/a HREF=/b"]);
    assert_eq!(seen("<a href=/a/>"), ["A href=/a/"]);
    assert_eq!(seen("<a/href=/a/ rel=x/>"), ["A href=/a/ rel=x/"]);
    assert_eq!(seen("<a href=>x"), ["A href="]);
    assert_eq!(seen("<a =x href=\"/a\"rel=b>"), ["A =x= href=/a rel=b"]);
    assert_eq!(seen("<a href=a>b>"), ["A href=a"]);
}

#[test]
fn tag_names_are_case_insensitive_and_exact() {
    assert_eq!(
        seen("<LINK rel=x><Base href=/><IFrame src=f></iframe>"),
        ["Link rel=x", "Base href=/", "Iframe src=f",]
    );
    assert!(seen("<abbr href=x><ab href=y><a-b href=z><a:b href=w>").is_empty());
}

#[test]
fn quoted_gt_does_not_end_a_tag() {
    assert_eq!(seen(r#"<p title=">"><a href="/a>b">"#), ["A href=/a>b"]);
    assert_eq!(seen(r#"<script></script x=">"><a href=/s>"#), ["A href=/s"]);
}

#[test]
fn raw_text_elements_hide_markup() {
    let doc = "<script>if (a<b) document.write('<a href=/s1>')</script>\
               <style>a::after{content:'<a href=/s2>'}</style>\
               <textarea><a href=/s3></textarea>\
               <xmp><a href=/s4></xmp><noembed><a href=/s5></noembed>\
               <noframes><a href=/s6></noframes>\
               <iframe src=/f><a href=/s7></iframe>\
               <a href=/ok>";
    assert_eq!(seen(doc), ["Iframe src=/f", "A href=/ok"]);
}

#[test]
fn raw_text_end_tag_needs_the_full_name() {
    let doc = "<script>x = '</scripts><a href=/no>'; </SCRIPT\n><a href=/yes>";
    assert_eq!(seen(doc), ["A href=/yes"]);
    assert!(seen("<style><a href=/no>").is_empty());
    assert!(seen("<script></script").is_empty());
}

#[test]
fn script_escapes() {
    // Inside <!-- a <script> makes the next </script> close only it.
    let doc = "<script><!-- <script> x </script> <a href=/no> --></script><a href=/yes>";
    assert_eq!(seen(doc), ["A href=/yes"]);
    let doc = "<script><!-- x </script><a href=/after>";
    assert_eq!(seen(doc), ["A href=/after"]);
    let doc = "<script><!--> <!-- --> <script> </script><a href=/after>";
    assert_eq!(seen(doc), ["A href=/after"]);
    let doc = "<script><!-- <script> --> </script><a href=/after>";
    assert_eq!(seen(doc), ["A href=/after"]);
}

#[test]
fn comments() {
    assert_eq!(seen("<!--><a href=/1>"), ["A href=/1"]);
    assert_eq!(seen("<!---><a href=/2>"), ["A href=/2"]);
    assert_eq!(seen("<!-- <a href=/no> --!><a href=/3>"), ["A href=/3"]);
    assert_eq!(
        seen("<!-- -- > <a href=/no> ---><a href=/4>"),
        ["A href=/4"]
    );
    assert!(seen("<!-- <a href=/no>").is_empty());
    assert_eq!(
        seen("<!DOCTYPE html><?xml x?><!x><a href=/5>"),
        ["A href=/5"]
    );
    assert_eq!(
        seen("</ x><a href=/6></><a href=/7>"),
        ["A href=/6", "A href=/7"]
    );
}

#[test]
fn cdata_is_never_markup() {
    assert_eq!(
        seen("<![CDATA[ x > <a href=/no> ]]><a href=/yes>"),
        ["A href=/yes"]
    );
    assert!(seen("<![CDATA[ <a href=/no>").is_empty());
}

#[test]
fn title_is_rcdata() {
    assert_eq!(
        seen("<title>A <b>&amp; B</TITLE ><a href=/x>"),
        ["title:A <b>&amp; B", "A href=/x"]
    );
    assert_eq!(
        seen("<title>unclosed <a href=/x>"),
        ["title:unclosed <a href=/x>"]
    );
}

#[test]
fn svg_title_is_not_the_document_title() {
    assert_eq!(
        seen("<svg><title>icon</title></svg><title>page</title>"),
        ["title:page"]
    );
    assert_eq!(seen("<svg><title/><a href=/x></svg>"), ["A href=/x"]);
    assert_eq!(seen("<svg/><title>page</title>"), ["title:page"]);
}

#[test]
fn end_of_input_inside_a_tag_drops_it() {
    assert!(seen("<a href=/x").is_empty());
    assert!(seen("<a href='/x>").is_empty());
    assert!(seen("<a href=").is_empty());
    assert!(seen("<").is_empty());
    assert!(seen("<a").is_empty());
}

#[test]
fn plaintext_ends_markup() {
    assert!(seen("<plaintext><a href=/x>").is_empty());
}

#[test]
fn non_ascii_text_and_values() {
    assert_eq!(
        seen("<p>\u{65e5}<a href='/\u{65e5}'>\u{672c}<\u{e9}"),
        ["A href=/\u{65e5}"]
    );
}
