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
/// form feed; the rest of the file is checked by [`TextCheck`] as it streams.
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
    if text.trim().is_empty() || !plain(text) || structured(text) {
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

/// [`is_text`] over a stream, a chunk at a time, holding at most the three
/// bytes of a code point cut by a chunk boundary.
#[derive(Debug, Default)]
pub struct TextCheck {
    carry: Vec<u8>,
    failed: bool,
}

impl TextCheck {
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.failed {
            return;
        }
        let joined;
        let data = if self.carry.is_empty() {
            chunk
        } else {
            joined = [std::mem::take(&mut self.carry).as_slice(), chunk].concat();
            joined.as_slice()
        };
        let (valid, rest) = match std::str::from_utf8(data) {
            Ok(s) => (s, &[][..]),
            Err(e) if e.error_len().is_none() => (
                std::str::from_utf8(&data[..e.valid_up_to()]).expect("checked prefix"),
                &data[e.valid_up_to()..],
            ),
            Err(_) => {
                self.failed = true;
                return;
            }
        };
        self.failed = !plain(valid);
        self.carry = rest.to_vec();
    }

    /// Whether everything fed was text, ending on a whole code point.
    pub fn finish(self) -> bool {
        !self.failed && self.carry.is_empty()
    }
}

/// Markup (HTML, XML, SVG) and data (JSON) are text too, but not documents
/// anyone signed, and markup can hide what a reader would see: refused.
fn structured(text: &str) -> bool {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    let mut chars = t.chars();
    match (chars.next(), chars.next()) {
        (Some('<'), Some(c)) => c.is_ascii_alphabetic() || matches!(c, '!' | '?'),
        (Some('{'), _) => true,
        (Some('['), Some(c)) => matches!(c, '{' | '"'),
        _ => false,
    }
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
        for markup in [
            &b"<!DOCTYPE html><html><body>NIP</body></html>"[..],
            b"  <html><p>Policy</p>",
            b"<?xml version=\"1.0\"?><policy/>",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            b"{\"verdict\": \"met\"}",
            b"[{\"id\": 1}]",
        ] {
            assert_eq!(sniff(markup), None, "{}", String::from_utf8_lossy(markup));
        }
        assert_eq!(
            sniff(b"[[Insurers]] list, see the note"),
            Some(FileKind::Markdown),
            "a wikilink is Markdown"
        );
        assert_eq!(sniff(b"<3 thanks"), Some(FileKind::Text));
    }

    #[test]
    fn a_code_point_cut_by_the_sniff_window_is_still_text() {
        let bytes = "żółw".as_bytes();
        assert_eq!(sniff(&bytes[..bytes.len() - 1]), Some(FileKind::Text));
        assert!(is_text(bytes));
        assert!(!is_text(&[0xC3, 0x28]));
    }
}
