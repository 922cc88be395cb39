//! Text extraction on real PDFs: built here with lopdf, and the public corpus
//! in `../shared/corpus/` when it is present.

use std::path::Path;

use ssot::agent::extract::{ExtractError, Limits, extract_blocking};
use ssot::agent::sniff::{FileKind, sniff};

use crate::pdfs::{self, Spec};

fn text(bytes: &[u8]) -> Result<Vec<String>, ExtractError> {
    assert_eq!(sniff(bytes), Some(FileKind::Pdf));
    extract_blocking(bytes, FileKind::Pdf, Limits::default()).map(|e| {
        assert!(
            e.unreadable.is_empty(),
            "unreadable pages {:?}",
            e.unreadable
        );
        e.pages
    })
}

#[test]
fn a_single_page_reads_line_by_line() {
    let pages = text(&pdfs::pdf(&[&[
        "CERTIFICATE OF INSURANCE",
        "Insurer: PZU SA",
    ]]))
    .unwrap();
    assert_eq!(pages.len(), 1);
    assert!(
        pages[0].contains("CERTIFICATE OF INSURANCE") && pages[0].contains("Insurer: PZU SA"),
        "{pages:?}"
    );
}

#[test]
fn pages_keep_their_order_and_fonts_their_text() {
    let spec = Spec {
        pages: vec![
            vec!["page one"],
            vec!["page two", "in Times"],
            vec!["page three", "in Courier", "in Helvetica"],
        ],
        fonts: vec!["Helvetica", "Times-Roman", "Courier"],
        compress: false,
        encrypt: None,
    };
    let plain = text(&pdfs::build(&spec)).unwrap();
    assert_eq!(plain.len(), 3);
    for (page, words) in plain.iter().zip([
        &["page one"][..],
        &["page two", "in Times"],
        &["page three", "in Courier", "in Helvetica"],
    ]) {
        for w in words {
            assert!(page.contains(w), "{w} missing from {page:?}");
        }
    }
    let compressed = text(&pdfs::build(&Spec {
        compress: true,
        ..spec
    }))
    .unwrap();
    assert_eq!(compressed, plain, "compressed streams read the same");
}

#[test]
fn an_empty_user_password_is_opened_and_a_real_password_is_not_guessed() {
    let open = Spec {
        encrypt: Some(("", "owner-secret")),
        ..Spec::pages(vec![vec!["Encrypted but open: NIP 526-000-12-46"]])
    };
    let pages = text(&pdfs::build(&open)).unwrap();
    assert!(pages[0].contains("526-000-12-46"), "{pages:?}");
    let locked = Spec {
        encrypt: Some(("user-secret", "owner-secret")),
        ..open
    };
    assert_eq!(text(&pdfs::build(&locked)), Err(ExtractError::Encrypted));
}

#[test]
fn corrupt_and_image_only_files_are_not_guessed_at() {
    assert!(matches!(
        text(&pdfs::corrupt()),
        Err(ExtractError::Corrupt(_))
    ));
    assert_eq!(text(&pdfs::image_only()), Err(ExtractError::NoText));
    assert_eq!(
        extract_blocking(b"\x89PNG\r\n\x1a\n....", FileKind::Png, Limits::default()),
        Err(ExtractError::NoText)
    );
}

#[test]
fn page_limits_hold() {
    let many: Vec<Vec<&str>> = (0..6)
        .map(|_| vec!["a page of text with enough words"])
        .collect();
    let limits = Limits {
        max_pages: 5,
        ..Limits::default()
    };
    assert_eq!(
        extract_blocking(&pdfs::build(&Spec::pages(many)), FileKind::Pdf, limits).map(|e| e.pages),
        Err(ExtractError::TooManyPages(6, 5))
    );
}

#[test]
fn a_page_that_cannot_be_read_is_reported_not_skipped() {
    let bytes = pdfs::with_broken_page(&[&["Polisa OC nr 123/2026", "Insured: Kowalska Meble"]]);
    let e = extract_blocking(&bytes, FileKind::Pdf, Limits::default()).unwrap();
    assert_eq!(e.pages.len(), 2, "the page count stays true");
    assert!(e.pages[0].contains("Polisa OC"));
    assert_eq!((e.pages[1].as_str(), e.unreadable), ("", vec![2]));
}

#[test]
fn plain_text_and_markdown_split_pages_on_form_feeds() {
    let text = "Zaświadczenie o nadaniu numeru NIP\nNIP: 526-000-12-46\u{c}Strona druga: podatnik VAT czynny";
    let pages = extract_blocking(text.as_bytes(), FileKind::Text, Limits::default())
        .unwrap()
        .pages;
    assert_eq!(pages.len(), 2);
    assert!(pages[0].contains("Zaświadczenie") && pages[1].contains("czynny"));
}

#[derive(serde::Deserialize)]
struct Corpus {
    data: Vec<CorpusFile>,
}

#[derive(serde::Deserialize)]
struct CorpusFile {
    path: String,
    pages: usize,
    encrypted: bool,
}

/// Every corpus file either reads, with the page count its ground truth gives,
/// or fails with a reason a person can act on; nothing panics or hangs.
#[test]
fn the_public_corpus_reads_or_fails_clearly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/py-pdf-sample-files");
    let Ok(index) = std::fs::read_to_string(root.join("files.json")) else {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"note: corpus not found; corpus test skipped\n",
        );
        return;
    };
    let corpus: Corpus = serde_json::from_str(&index).unwrap();
    let (mut read, mut no_text) = (0, 0);
    for f in &corpus.data {
        // The index lists a file or two the copy leaves out.
        let Ok(bytes) = std::fs::read(root.join(&f.path)) else {
            continue;
        };
        match extract_blocking(&bytes, FileKind::Pdf, Limits::default()) {
            Ok(e) => {
                assert!(
                    !f.encrypted,
                    "{}: an encrypted file read without its password",
                    f.path
                );
                assert_eq!(e.pages.len(), f.pages, "{}: page count", f.path);
                assert!(
                    e.unreadable
                        .iter()
                        .all(|p| e.pages[*p as usize - 1].is_empty()),
                    "{}: a page reported unreadable has text",
                    f.path
                );
                read += 1;
            }
            Err(ExtractError::Encrypted) => {
                assert!(f.encrypted, "{}: wrongly called encrypted", f.path)
            }
            Err(ExtractError::NoText) => no_text += 1,
            Err(ExtractError::Corrupt(_)) => {}
            Err(other) => panic!("{}: {other}", f.path),
        }
    }
    assert!(
        read >= 15,
        "only {read} of {} corpus files read",
        corpus.data.len()
    );
    assert!(no_text >= 3, "the image-only files are recognised");
}
