//! What a file is, told from its first bytes, never from its name.

/// The kinds of file the agent accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::Display, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum FileKind {
    Pdf,
    Png,
    Jpeg,
    Text,
    Markdown,
}

impl FileKind {
    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Text => "text/plain; charset=utf-8",
            FileKind::Markdown => "text/markdown; charset=utf-8",
        }
    }

    pub fn from_content_type(content_type: &str) -> Option<Self> {
        [
            FileKind::Pdf,
            FileKind::Png,
            FileKind::Jpeg,
            FileKind::Text,
            FileKind::Markdown,
        ]
        .into_iter()
        .find(|k| k.content_type() == content_type)
    }

    /// Images carry no text layer: they always go to a person.
    pub fn has_text_layer(self) -> bool {
        !matches!(self, FileKind::Png | FileKind::Jpeg)
    }
}

/// How many leading bytes [`sniff`] wants.
pub const SNIFF_BYTES: usize = 8192;

/// Tells the kind from the first bytes of a file (up to [`SNIFF_BYTES`]).
/// Text must be UTF-8 without control characters other than whitespace and
/// form feed; the rest of the file is checked by [`is_text`] once stored.
pub fn sniff(head: &[u8]) -> Option<FileKind> {
    if head.starts_with(b"%PDF-") {
        return Some(FileKind::Pdf);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(FileKind::Png);
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(FileKind::Jpeg);
    }
    let text = utf8_prefix(head)?;
    if text.trim().is_empty() || !plain(text) {
        return None;
    }
    Some(if looks_like_markdown(text) {
        FileKind::Markdown
    } else {
        FileKind::Text
    })
}

/// The valid UTF-8 of `head`, allowing one code point cut off at the end.
fn utf8_prefix(head: &[u8]) -> Option<&str> {
    match std::str::from_utf8(head) {
        Ok(s) => Some(s),
        Err(e) if e.error_len().is_none() && head.len() - e.valid_up_to() < 4 => {
            std::str::from_utf8(&head[..e.valid_up_to()]).ok()
        }
        Err(_) => None,
    }
}

fn plain(text: &str) -> bool {
    text.chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
}

/// Whether a whole stored file is text as [`sniff`] means it.
pub fn is_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(plain)
}

fn looks_like_markdown(text: &str) -> bool {
    text.starts_with("---\n")
        || text.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with("# ")
                || l.starts_with("## ")
                || l.starts_with("```")
                || l.starts_with("| ")
                || l.starts_with("- [")
        })
        || text.contains("](")
        || text.contains("[[")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some(FileKind::Pdf));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0"), Some(FileKind::Png));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(FileKind::Jpeg));
        assert_eq!(
            sniff("Zaświadczenie o nadaniu NIP".as_bytes()),
            Some(FileKind::Text)
        );
        assert_eq!(sniff(b"# NDA\n\nThe parties..."), Some(FileKind::Markdown));
        assert_eq!(sniff(b"PK\x03\x04 a zip or docx"), None);
        assert_eq!(sniff(b"MZ\x90\0 an exe"), None);
        assert_eq!(sniff(b"   \n"), None, "nothing to read");
        assert_eq!(sniff(b"text with \x01 control"), None);
    }

    #[test]
    fn a_code_point_cut_by_the_sniff_window_is_still_text() {
        let bytes = "żółw".as_bytes();
        assert_eq!(sniff(&bytes[..bytes.len() - 1]), Some(FileKind::Text));
        assert!(is_text(bytes));
        assert!(!is_text(&[0xC3, 0x28]));
    }
}
