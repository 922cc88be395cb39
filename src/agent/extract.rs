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

/// Extracts on a blocking thread, within `limits.timeout`. A timed-out thread
/// cannot be stopped, so file size and page count are what bound its work.
pub async fn extract(
    bytes: Vec<u8>,
    kind: FileKind,
    limits: Limits,
) -> Result<Pages, ExtractError> {
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
) -> Result<Pages, ExtractError> {
    let run = || match kind {
        FileKind::Pdf => pdf(bytes, limits),
        FileKind::Text | FileKind::Markdown => text(bytes),
        FileKind::Png | FileKind::Jpeg => Err(ExtractError::NoText),
    };
    let pages = std::panic::catch_unwind(AssertUnwindSafe(run)).map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into());
        ExtractError::Crashed(message)
    })??;
    let readable: usize = pages
        .iter()
        .map(|p| p.chars().filter(|c| c.is_alphanumeric()).count())
        .sum();
    if readable < MIN_TEXT_CHARS {
        return Err(ExtractError::NoText);
    }
    Ok(pages)
}

fn text(bytes: &[u8]) -> Result<Pages, ExtractError> {
    if !is_text(bytes) {
        return Err(ExtractError::Corrupt("not UTF-8 text".into()));
    }
    let text = String::from_utf8_lossy(bytes);
    // A form feed separates pages in text exports (pdftotext writes them).
    Ok(text.split('\u{c}').map(str::to_owned).collect())
}

fn pdf(bytes: &[u8], limits: Limits) -> Result<Pages, ExtractError> {
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
    // A page that fails (an unsupported font encoding) reads as empty; the
    // no-text rule catches a document where nothing reads.
    Ok(pages
        .keys()
        .map(|n| {
            doc.extract_text_with_limit(&[*n], limits.max_page_bytes)
                .unwrap_or_default()
        })
        .collect())
}
