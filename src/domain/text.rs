//! Text normalisation for comparing what a document says with what we know:
//! case, spacing, punctuation, diacritics and legal-form spellings differ
//! between a CRM record and a scanned certificate without meaning different things.

use unicode_normalization::UnicodeNormalization;

/// Lowercase, diacritics removed (ł and đ too), runs of whitespace collapsed.
pub fn fold(text: &str) -> String {
    let stripped: String = text
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'ł' | 'Ł' => 'l',
            'đ' | 'Đ' => 'd',
            'ß' => 's',
            other => other,
        })
        .collect();
    stripped
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whitespace collapsed and case folded, diacritics kept: how evidence quotes
/// are compared with page text (the model copies what it sees).
pub fn squash(text: &str) -> String {
    text.to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Words only: folded, every character that is not a letter or digit becomes a
/// space. "Sp. z o.o." and "SP Z O O" both become "sp z o o".
pub fn words(text: &str) -> String {
    let folded = fold(text);
    let spaced: String = folded
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Legal-form spellings (as they come out of [`words`]) mapped to one token,
/// longest first so "spolka z ograniczona odpowiedzialnoscia" wins over "spolka".
const LEGAL_FORMS: &[(&str, &str)] = &[
    ("spolka z ograniczona odpowiedzialnoscia", "spzoo"),
    ("spolka komandytowo akcyjna", "ska"),
    ("spolka komandytowa", "spk"),
    ("spolka akcyjna", "sa"),
    ("spolka jawna", "spj"),
    ("spolka partnerska", "sp p"),
    ("sp z o o", "spzoo"),
    ("sp z oo", "spzoo"),
    ("spzoo", "spzoo"),
    ("s k a", "ska"),
    ("sp k", "spk"),
    ("sp j", "spj"),
    ("s a", "sa"),
    ("limited liability company", "llc"),
    ("limited", "ltd"),
    ("l l c", "llc"),
    ("g m b h", "gmbh"),
    ("incorporated", "inc"),
];

/// [`words`] with legal forms written one way, for comparing company names.
pub fn company(text: &str) -> String {
    let mut out = format!(" {} ", words(text));
    for (long, short) in LEGAL_FORMS {
        out = out.replace(&format!(" {long} "), &format!(" {short} "));
    }
    out.trim().to_owned()
}

/// Digits only, for tax ids and registry numbers.
pub fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// Whether `needle` occurs in `haystack` on word boundaries (both already normalised).
pub fn contains_words(haystack: &str, needle: &str) -> bool {
    !needle.is_empty() && format!(" {haystack} ").contains(&format!(" {needle} "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_names_match_across_spellings() {
        let record = company("Kowalska Meble Sp. z o.o.");
        for text in [
            "KOWALSKA MEBLE SP. Z O.O.",
            "Kowalska  Meble sp.z o.o.",
            "kowalska meble spółka z ograniczoną odpowiedzialnością",
        ] {
            assert_eq!(company(text), record, "{text}");
        }
        assert_ne!(company("Kowalska Meble S.A."), record);
    }

    #[test]
    fn folding_removes_diacritics_and_spacing() {
        assert_eq!(fold("  Łukasz   WIŚNIEWSKI "), "lukasz wisniewski");
        assert_eq!(words("Jan-Paweł Nowak, PhD."), "jan pawel nowak phd");
        assert_eq!(digits("PL 526-000-12-46"), "5260001246");
        assert!(contains_words(
            "the insured kowalska meble spzoo of",
            "kowalska meble spzoo"
        ));
        assert!(!contains_words("xkowalska meble", "kowalska meble"));
    }
}
