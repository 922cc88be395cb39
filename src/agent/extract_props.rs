//! Property tests of text extraction on hostile files: arbitrary bytes,
//! truncated and bit-flipped PDFs, too many pages, a stream that inflates past
//! the limit. Extraction never panics, stays within its limits, and a damaged
//! file comes back as an error or a flagged page, never as invented text.

use std::time::{Duration, Instant};

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};
use proptest::prelude::*;

use super::extract::{ExtractError, Extraction, Limits, extract_blocking};
use super::sniff::FileKind;

/// Tight limits, so a property that holds here holds for the defaults.
const LIMITS: Limits = Limits {
    max_pages: 4,
    timeout: Duration::from_secs(10),
    max_page_bytes: 64 * 1024,
};

/// A PDF with one page per entry, each line set in Helvetica.
fn pdf(pages: &[Vec<String>], compress: bool) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding" });
    let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F0" => font } });
    let mut kids = Vec::new();
    for lines in pages {
        let mut ops = vec![
            Operation::new("BT", vec![]),
            Operation::new("TL", vec![16.into()]),
            Operation::new("Tf", vec!["F0".into(), 11.into()]),
            Operation::new("Td", vec![60.into(), 780.into()]),
        ];
        for line in lines {
            ops.push(Operation::new(
                "Tj",
                vec![Object::string_literal(line.as_str())],
            ));
            ops.push(Operation::new("T*", vec![]));
        }
        ops.push(Operation::new("ET", vec![]));
        let content = Content { operations: ops }.encode().unwrap();
        let content_id = doc.add_object(Stream::new(dictionary! {}, content));
        let page = dictionary! { "Type" => "Page", "Parent" => pages_id, "Contents" => content_id };
        kids.push(doc.add_object(page).into());
    }
    let count = kids.len() as i64;
    let tree = dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count, "Resources" => resources,
    "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()] };
    doc.objects.insert(pages_id, Object::Dictionary(tree));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    if compress {
        doc.compress();
    }
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// Runs extraction, checking the limits every result must keep.
fn extract_within_limits(bytes: &[u8], kind: FileKind) -> Result<Extraction, ExtractError> {
    let started = Instant::now();
    let result = extract_blocking(bytes, kind, LIMITS);
    assert!(
        started.elapsed() < LIMITS.timeout,
        "took {:?}",
        started.elapsed()
    );
    if let Ok(e) = &result {
        assert!(e.pages.len() <= LIMITS.max_pages, "{} pages", e.pages.len());
        let pages = 1..=e.pages.len() as u32;
        assert!(e.unreadable.iter().all(|p| pages.contains(p)), "{e:?}");
        if kind == FileKind::Pdf {
            assert!(e.pages.iter().all(|p| p.len() <= LIMITS.max_page_bytes));
        }
    }
    result
}

/// Every word extraction returns must be (part of) a word the document holds:
/// a damaged file may lose text, never gain it.
fn invents_nothing(extraction: &Extraction, original: &[Vec<String>]) -> Result<(), String> {
    let source = original.concat().join(" ");
    for (n, page) in extraction.pages.iter().enumerate() {
        if let Some(word) = page.split_whitespace().find(|w| !source.contains(w)) {
            return Err(format!("page {}: `{word}` is not in the document", n + 1));
        }
    }
    Ok(())
}

/// Each page reads whole, or is reported unreadable: never silently half.
/// A page may read empty: damage to its keys (`/Contents`, `/Filter`) leaves
/// it blank to any reader, which loses text but invents none; and a page lost
/// from the page tree loses its text the same way.
fn whole_or_flagged(extraction: &Extraction, original: &[Vec<String>]) -> Result<(), String> {
    if extraction.pages.len() != original.len() {
        return Ok(());
    }
    for (n, (page, lines)) in extraction.pages.iter().zip(original).enumerate() {
        let flagged = extraction.unreadable.contains(&(n as u32 + 1));
        let blank = page.trim().is_empty();
        if !flagged && !blank && !lines.iter().all(|l| page.contains(l.as_str())) {
            return Err(format!("page {} reads {page:?}, unflagged", n + 1));
        }
    }
    Ok(())
}

/// Pages of lines of plain words, enough text to pass the no-text rule.
fn document() -> impl Strategy<Value = Vec<Vec<String>>> {
    let line = prop::collection::vec("[A-Za-z0-9]{3,10}", 3..6).prop_map(|w| w.join(" "));
    prop::collection::vec(prop::collection::vec(line, 1..4), 1..3)
}

/// The same from a policy's vocabulary: repetitive enough that lopdf
/// compresses every content stream (it keeps a stream plain when Flate
/// would not make it smaller).
fn compressible() -> impl Strategy<Value = Vec<Vec<String>>> {
    const WORDS: [&str; 12] = [
        "policy",
        "insured",
        "period",
        "from",
        "to",
        "cover",
        "liability",
        "sum",
        "PLN",
        "2099",
        "Kowalska",
        "Meble",
    ];
    let line = prop::collection::vec(prop::sample::select(WORDS.to_vec()), 6..10)
        .prop_map(|w| w.join(" "));
    prop::collection::vec(prop::collection::vec(line, 4..8), 1..3)
}

/// Whether every page's content is a Flate stream.
fn all_compressed(bytes: &[u8]) -> bool {
    let doc = Document::load_mem(bytes).unwrap();
    doc.get_pages()
        .values()
        .flat_map(|p| doc.get_page_contents(*p))
        .all(|c| {
            doc.get_object(c)
                .and_then(Object::as_stream)
                .is_ok_and(|s| s.dict.get(b"Filter").is_ok())
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn arbitrary_bytes_of_any_kind_never_panic_and_stay_within_limits(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
        kind in prop::sample::select(vec![FileKind::Pdf, FileKind::Text, FileKind::Markdown, FileKind::Png]),
    ) {
        let _ = extract_within_limits(&bytes, kind);
    }

    #[test]
    fn random_bytes_behind_a_pdf_header_are_an_error(
        body in prop::collection::vec(any::<u8>(), 0..4096),
    ) {
        let bytes = [b"%PDF-1.7\n".as_slice(), &body].concat();
        let result = extract_within_limits(&bytes, FileKind::Pdf);
        prop_assert!(result.is_err(), "{result:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_truncated_pdf_is_refused_or_reads_only_what_it_holds(
        pages in document(),
        compress in any::<bool>(),
        cut in 0.0..1.0f64,
    ) {
        let whole = pdf(&pages, compress);
        let bytes = &whole[..(whole.len() as f64 * cut) as usize];
        if let Ok(extraction) = extract_within_limits(bytes, FileKind::Pdf) {
            invents_nothing(&extraction, &pages).map_err(TestCaseError::fail)?;
            whole_or_flagged(&extraction, &pages).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn a_flipped_byte_in_a_compressed_pdf_is_refused_flagged_or_harmless(
        pages in compressible(),
        at in any::<prop::sample::Index>(),
        mask in 1..=255u8,
    ) {
        let mut bytes = pdf(&pages, true);
        prop_assert!(all_compressed(&bytes));
        let i = at.index(bytes.len());
        bytes[i] ^= mask;
        if let Ok(extraction) = extract_within_limits(&bytes, FileKind::Pdf) {
            // The text sits in checksummed Flate streams: a flip that reaches it
            // must be caught, so every page reads whole or is flagged.
            whole_or_flagged(&extraction, &pages).map_err(TestCaseError::fail)?;
            invents_nothing(&extraction, &pages).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn a_flipped_byte_in_a_plain_pdf_never_panics_or_overruns(
        pages in document(),
        at in any::<prop::sample::Index>(),
        mask in 1..=255u8,
    ) {
        // Uncompressed text has no checksum: a flip in it is what the file says.
        let mut bytes = pdf(&pages, false);
        let i = at.index(bytes.len());
        bytes[i] ^= mask;
        if let Ok(extraction) = extract_within_limits(&bytes, FileKind::Pdf) {
            prop_assert!(extraction.pages.len() <= pages.len());
        }
    }
}

#[test]
fn more_pages_than_allowed_are_refused_by_count() {
    for extra in 1..4 {
        let pages: Vec<Vec<String>> = (0..LIMITS.max_pages + extra)
            .map(|n| vec![format!("page number {n} of a long policy document")])
            .collect();
        let result = extract_within_limits(&pdf(&pages, true), FileKind::Pdf);
        assert_eq!(
            result,
            Err(ExtractError::TooManyPages(pages.len(), LIMITS.max_pages))
        );
    }
}

/// A page whose Flate stream inflates to far more than one page may hold:
/// spaces compress about a thousandfold.
fn inflating_pdf(inflated: usize) -> Vec<u8> {
    let lines = vec![vec![
        "Policy period: from 2026-01-01 to 2099-12-31".to_owned(),
    ]];
    let mut doc = Document::load_mem(&pdf(&lines, false)).unwrap();
    let page = *doc.get_pages().values().next().unwrap();
    let content = doc.get_page_contents(page)[0];
    let stream = doc
        .get_object_mut(content)
        .unwrap()
        .as_stream_mut()
        .unwrap();
    let mut spaces =
        b"BT /F0 11 Tf 60 780 Td (Policy period from 2026-01-01 to 2099-12-31) Tj ET".to_vec();
    spaces.resize(inflated, b' ');
    stream.set_plain_content(spaces);
    stream.compress().unwrap();
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// A two-page document whose second page lost `what` (its content stream, or
/// the page object itself).
fn lost_from_page_two(what: fn(&Document, lopdf::ObjectId) -> lopdf::ObjectId) -> Vec<u8> {
    let lines = |w: &str| vec![format!("{w} policy period from 2026-01-01 to 2099-12-31")];
    let mut doc = Document::load_mem(&pdf(&[lines("first"), lines("second")], false)).unwrap();
    let page = doc.get_pages()[&2];
    let lost = what(&doc, page);
    doc.objects.remove(&lost);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

#[test]
fn a_page_whose_content_or_object_is_lost_is_flagged() {
    let content: fn(&Document, lopdf::ObjectId) -> lopdf::ObjectId =
        |doc, page| doc.get_page_contents(page)[0];
    let object: fn(&Document, lopdf::ObjectId) -> lopdf::ObjectId = |_, page| page;
    for lost in [content, object] {
        let extraction = extract_within_limits(&lost_from_page_two(lost), FileKind::Pdf).unwrap();
        assert!(
            extraction.pages[0].contains("first policy"),
            "{extraction:?}"
        );
        assert_eq!(extraction.unreadable, [2], "{extraction:?}");
    }
}

#[test]
fn the_same_stream_under_the_limit_reads() {
    // The control for the next test: the construction itself is readable.
    let pages = extract_within_limits(&inflating_pdf(LIMITS.max_page_bytes / 2), FileKind::Pdf);
    assert!(pages.unwrap().pages[0].contains("Policy period"));
}

#[test]
fn a_stream_that_inflates_past_the_page_limit_is_not_read() {
    let bomb = inflating_pdf(LIMITS.max_page_bytes * 64);
    assert!(bomb.len() < 16 * 1024, "a small file: {} bytes", bomb.len());
    let result = extract_within_limits(&bomb, FileKind::Pdf);
    match result {
        Err(_) => {}
        Ok(e) => assert_eq!(e.unreadable, [1], "{e:?}"),
    }
}
