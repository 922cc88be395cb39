//! Validation primitives: input from the edge is parsed into these types once, so
//! the rest of the code never re-checks a string.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One field that broke a rule, with a message a person can act on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// Every rule the input broke, collected so a caller can fix them all at once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Keeps the value when it parsed, records the error otherwise; lets a parser
    /// check every field before giving up.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(error);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was recorded.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, ValidationErrors> {
        if self.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}

pub fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Characters that show nothing (zero-width spaces and joiners, word
/// joiners, the byte order mark, soft hyphens) or reorder what is shown (the
/// bidirectional embeddings, overrides and isolates).
pub fn invisible(c: char) -> bool {
    matches!(c, '\u{ad}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
        || bidi_control(c)
}

/// The characters that make text display in another order than it is
/// stored ("Trojan Source"); marks (U+200E, U+200F) are not among them.
fn bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Trimmed, non-empty text of bounded length without control characters
/// (newlines are allowed only where `multiline` says so). Text of nothing
/// but invisible characters is empty; a single line (a name, a title, a tag)
/// may not reorder itself with bidirectional controls.
pub fn text(
    field: &str,
    value: &str,
    max_chars: usize,
    multiline: bool,
) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.chars().all(|c| c.is_whitespace() || invisible(c)) {
        return Err(field_error(field, "must not be empty"));
    }
    if !multiline && trimmed.chars().any(bidi_control) {
        return Err(field_error(
            field,
            "must not contain bidirectional override or isolate characters",
        ));
    }
    if trimmed.chars().count() > max_chars {
        return Err(field_error(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    let bad_control =
        |c: char| c.is_control() && !(multiline && (c == '\n' || c == '\r' || c == '\t'));
    if trimmed.chars().any(bad_control) {
        return Err(field_error(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// Like [`text`] but `None` and blank input both mean "not given".
pub fn optional_text(
    field: &str,
    value: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>, FieldError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(field, v, max_chars, false).map(Some),
    }
}

/// A normalised label: skills, industries, languages. Lowercase, single spaces.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(transparent)]
pub struct Tag(String);

impl Tag {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let normalised = value
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        let checked = text(field, &normalised, Self::MAX_CHARS, false)?;
        Ok(Self(checked))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parses a list of tags, dropping duplicates and keeping the first spelling's order.
pub fn tags(field: &str, values: &[String], max_items: usize) -> Result<Vec<Tag>, FieldError> {
    if values.len() > max_items {
        return Err(field_error(
            field,
            format!("must have at most {max_items} items"),
        ));
    }
    let mut out: Vec<Tag> = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let tag = Tag::parse(&format!("{field}[{i}]"), value)?;
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    Ok(out)
}

/// A non-negative, finite number (hours, rates, money).
pub fn non_negative(field: &str, value: f64) -> Result<f64, FieldError> {
    if !value.is_finite() || value < 0.0 {
        return Err(field_error(
            field,
            "must be a finite number of zero or more",
        ));
    }
    Ok(value)
}

/// The reason a person gives for blocking, cancelling or rejecting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Reason(String);

impl Reason {
    pub const MAX_CHARS: usize = 2000;

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        text("reason", value, Self::MAX_CHARS, true).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(text("t", "  hi ", 10, false).unwrap(), "hi");
        assert!(text("t", "   ", 10, false).is_err());
        assert!(text("t", "abcdefghijk", 10, false).is_err());
        assert!(text("t", "a\u{0}b", 10, false).is_err());
        assert!(text("t", "a\nb", 10, false).is_err());
        assert!(text("t", "a\nb", 10, true).is_ok());
    }

    #[test]
    fn invisible_text_is_empty_and_a_line_cannot_reorder_itself() {
        assert!(text("t", "\u{200b}\u{a0} \u{feff}", 10, true).is_err());
        assert!(text("t", "auto\u{202e}noitam", 20, false).is_err());
        assert!(text("t", "line\u{2067}one\nline two", 30, true).is_ok());
        assert!(
            text("t", "שלום \u{200f}Anna", 20, false).is_ok(),
            "marks are not overrides"
        );
        assert!(
            text("t", "👩\u{200d}💻", 10, false).is_ok(),
            "joiners inside emoji stay"
        );
    }

    #[test]
    fn tags_are_normalised_and_deduplicated() {
        let parsed = tags(
            "skills",
            &["Rust ".into(), "rust".into(), " Data   Engineering".into()],
            10,
        )
        .unwrap();
        let names: Vec<&str> = parsed.iter().map(Tag::as_str).collect();
        assert_eq!(names, ["rust", "data engineering"]);
    }

    #[test]
    fn too_many_tags_are_refused() {
        let many: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
        assert!(tags("skills", &many, 10).is_err());
    }

    #[test]
    fn negative_and_non_finite_numbers_are_refused() {
        assert!(non_negative("x", -1.0).is_err());
        assert!(non_negative("x", f64::NAN).is_err());
        assert!(non_negative("x", f64::INFINITY).is_err());
        assert_eq!(non_negative("x", 2.5).unwrap(), 2.5);
    }

    #[test]
    fn validation_errors_collect_every_field() {
        let mut errors = ValidationErrors::new();
        assert!(errors.check(text("a", "", 5, false)).is_none());
        assert!(errors.check(text("b", "ok", 5, false)).is_some());
        assert!(errors.check(non_negative("c", -2.0)).is_none());
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["a", "c"]);
        assert!(errors.finish(|| ()).is_err());
    }

    proptest! {
        #[test]
        fn parsed_text_is_never_blank_or_too_long(s in ".{0,40}") {
            if let Ok(t) = text("f", &s, 20, false) {
                prop_assert!(!t.trim().is_empty());
                prop_assert!(t.chars().count() <= 20);
                prop_assert_eq!(t.trim(), t.as_str());
            }
        }

        #[test]
        fn a_parsed_tag_parses_to_itself(s in "[a-zA-Z ]{0,30}") {
            if let Ok(tag) = Tag::parse("f", &s) {
                prop_assert_eq!(Tag::parse("f", tag.as_str()).unwrap(), tag);
            }
        }
    }
}
