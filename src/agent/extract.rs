//! Text extraction, page by page: PDF through lopdf, plain text and Markdown as
//! they are. Runs on a blocking thread with a time limit and a page limit, and
//! survives a panicking parser. Encrypted, corrupt and image-only files are not
//! guessed at: they come back as errors a person must look at.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use super::sniff::{FileKind, is_text};

/// Bounds on the work one document may cause.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_pages: usize,
    pub timeout: Duration,
    /// Largest decompressed content of one page.
    pub max_page_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_pages: 200,
            timeout: Duration::from_secs(30),
            max_page_bytes: 16 << 20,
        }
    }
}

/// Fewer readable characters than this in a whole document means no text layer.
const MIN_TEXT_CHARS: usize = 20;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    #[error("the PDF is encrypted with a password; it cannot be read without it")]
    Encrypted,
    #[error("the file is corrupt or not a readable PDF: {0}")]
    Corrupt(String),
    #[error("the document has no text layer (a scan or an image); a person must read it")]
    NoText,
    #[error("the document has {0} pages, more than the {1} allowed")]
    TooManyPages(usize, usize),
    #[error("text extraction took longer than {0:?}")]
    Timeout(Duration),
    #[error("the text extractor failed on this file: {0}")]
    Crashed(String),
}

/// The text of each page, in order (page 1 first).
pub type Pages = Vec<String>;

/// What extraction read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extraction {
    pub pages: Pages,
    /// Pages (1-based) whose text could not be read; they read as empty, so
    /// what the document says there is unknown.
    pub unreadable: Vec<u32>,
}

/// Extracts on a blocking thread, within `limits.timeout`. A timed-out thread
/// cannot be stopped, so file size and page count are what bound its work.
pub async fn extract(
    bytes: Vec<u8>,
    kind: FileKind,
    limits: Limits,
) -> Result<Extraction, ExtractError> {
    let work = tokio::task::spawn_blocking(move || extract_blocking(&bytes, kind, limits));
    match tokio::time::timeout(limits.timeout, work).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(ExtractError::Crashed(join.to_string())),
        Err(_) => Err(ExtractError::Timeout(limits.timeout)),
    }
}

/// The same, on the calling thread, with panics caught.
pub fn extract_blocking(
    bytes: &[u8],
    kind: FileKind,
    limits: Limits,
) -> Result<Extraction, ExtractError> {
    let run = || match kind {
        FileKind::Pdf => pdf(bytes, limits),
        FileKind::Text | FileKind::Markdown => text(bytes).map(|pages| Extraction {
            pages,
            unreadable: Vec::new(),
        }),
        FileKind::Png | FileKind::Jpeg => Err(ExtractError::NoText),
    };
    let extraction = std::panic::catch_unwind(AssertUnwindSafe(run)).map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into());
        ExtractError::Crashed(message)
    })??;
    let readable: usize = extraction
        .pages
        .iter()
        .map(|p| p.chars().filter(|c| c.is_alphanumeric()).count())
        .sum();
    if readable < MIN_TEXT_CHARS {
        return Err(ExtractError::NoText);
    }
    Ok(extraction)
}

fn text(bytes: &[u8]) -> Result<Pages, ExtractError> {
    if !is_text(bytes) {
        return Err(ExtractError::Corrupt("not UTF-8 text".into()));
    }
    let text = String::from_utf8_lossy(bytes);
    // A form feed separates pages in text exports (pdftotext writes them).
    Ok(text.split('\u{c}').map(str::to_owned).collect())
}

fn pdf(bytes: &[u8], limits: Limits) -> Result<Extraction, ExtractError> {
    let options = lopdf::LoadOptions {
        max_decompressed_size: Some(limits.max_page_bytes),
        ..Default::default()
    };
    let doc = lopdf::Document::load_mem_with_options(bytes, options).map_err(|e| match e {
        lopdf::Error::InvalidPassword => ExtractError::Encrypted,
        other => ExtractError::Corrupt(other.to_string()),
    })?;
    // lopdf opens empty-password files by itself; one still encrypted needs a password.
    if doc.is_encrypted() {
        return Err(ExtractError::Encrypted);
    }
    let pages = doc.get_pages();
    if pages.is_empty() {
        return Err(ExtractError::Corrupt("the PDF has no pages".into()));
    }
    if pages.len() > limits.max_pages {
        return Err(ExtractError::TooManyPages(pages.len(), limits.max_pages));
    }
    // A page that fails (an unsupported font encoding, a broken stream) reads
    // as empty and is reported; the no-text rule catches a document where
    // nothing reads.
    let mut extraction = Extraction::default();
    for (i, (n, page_id)) in pages.iter().enumerate() {
        let text = if damaged(&doc, *page_id, limits.max_page_bytes) {
            Err("a content stream cannot be decoded".to_owned())
        } else {
            doc.extract_text_with_limit(&[*n], limits.max_page_bytes)
                .map_err(|e| e.to_string())
        };
        match text {
            Ok(text) => extraction.pages.push(text),
            Err(error) => {
                tracing::debug!(page = i + 1, %error, "a PDF page could not be read");
                extraction.pages.push(String::new());
                extraction.unreadable.push(i as u32 + 1);
            }
        }
    }
    Ok(extraction)
}

/// Whether a page or its content is missing or fails to decode. lopdf
/// forgives all of these (a lost page object has no content, a corrupt Flate
/// stream decodes to nothing or to what came before the damage), which would
/// read as a blank or shortened page rather than an error. More than a few
/// compressed bytes that decode to nothing is damage: even an empty page
/// compresses to less.
fn damaged(doc: &lopdf::Document, page: lopdf::ObjectId, limit: usize) -> bool {
    const EMPTY_COMPRESSED: usize = 16;
    let Ok(dict) = doc.get_dictionary(page) else {
        return true;
    };
    let contents = doc.get_page_contents(page);
    // Content named but none of it a stream (a damaged `stream` keyword) is lost.
    if dict.get(b"Contents").is_ok() && contents.is_empty() {
        return true;
    }
    contents.into_iter().any(
        |id| match doc.get_object(id).and_then(lopdf::Object::as_stream) {
            Ok(stream) => match stream.get_plain_content_with_limit(limit) {
                Ok(plain) => {
                    (plain.is_empty() && stream.content.len() > EMPTY_COMPRESSED)
                        || flate_broken(stream, limit)
                }
                Err(_) => true,
            },
            Err(_) => true,
        },
    )
}

/// Whether a stream compressed with Flate alone fails to inflate whole, its
/// checksum included (lopdf keeps what it inflated before an error).
fn flate_broken(stream: &lopdf::Stream, limit: usize) -> bool {
    use std::io::Read;
    let flate_only = stream
        .filters()
        .is_ok_and(|f| f == [b"FlateDecode".as_slice()]);
    if !flate_only {
        return false;
    }
    let inflate = flate2::read::ZlibDecoder::new(stream.content.as_slice());
    let mut sink = Vec::new();
    inflate
        .take(limit as u64 + 1)
        .read_to_end(&mut sink)
        .is_err()
}
