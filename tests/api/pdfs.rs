//! Real PDFs built with lopdf for the tests: text pages in the standard fonts,
//! compressed or not, encrypted, corrupt, or holding only an image.

use lopdf::content::{Content, Operation};
use lopdf::{
    Document, EncryptionState, EncryptionVersion, Object, Permissions, Stream, dictionary,
};

/// How to build a document.
#[derive(Clone)]
pub struct Spec<'a> {
    /// Each page's lines, top to bottom.
    pub pages: Vec<Vec<&'a str>>,
    /// Fonts used in turn, line by line (standard Type 1 fonts).
    pub fonts: Vec<&'a str>,
    pub compress: bool,
    /// `(user password, owner password)`.
    pub encrypt: Option<(&'a str, &'a str)>,
}

impl<'a> Spec<'a> {
    pub fn pages(pages: Vec<Vec<&'a str>>) -> Self {
        Self {
            pages,
            fonts: vec!["Helvetica"],
            compress: true,
            encrypt: None,
        }
    }
}

fn finish(
    mut doc: Document,
    pages_id: lopdf::ObjectId,
    kids: Vec<Object>,
    resources: lopdf::ObjectId,
) -> Document {
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => count, "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    doc
}

pub fn build(spec: &Spec) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut fonts = lopdf::Dictionary::new();
    for (i, name) in spec.fonts.iter().enumerate() {
        let id = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => *name, "Encoding" => "WinAnsiEncoding" });
        fonts.set(format!("F{i}"), id);
    }
    let resources = doc.add_object(dictionary! { "Font" => fonts });
    let mut kids = Vec::new();
    for lines in &spec.pages {
        let mut ops = vec![
            Operation::new("BT", vec![]),
            Operation::new("TL", vec![16.into()]),
        ];
        for (n, line) in lines.iter().enumerate() {
            let font = format!("F{}", n % spec.fonts.len());
            ops.push(Operation::new("Tf", vec![font.into(), 11.into()]));
            // The first line placed, each next one on the next line (T*).
            if n == 0 {
                ops.push(Operation::new("Td", vec![60.into(), 780.into()]));
            } else {
                ops.push(Operation::new("T*", vec![]));
            }
            ops.push(Operation::new("Tj", vec![Object::string_literal(*line)]));
        }
        ops.push(Operation::new("ET", vec![]));
        let content = Content { operations: ops }.encode().unwrap();
        let content_id = doc.add_object(Stream::new(dictionary! {}, content));
        kids.push(
            doc.add_object(
                dictionary! { "Type" => "Page", "Parent" => pages_id, "Contents" => content_id },
            )
            .into(),
        );
    }
    let mut doc = finish(doc, pages_id, kids, resources);
    if spec.compress {
        doc.compress();
    }
    if let Some((user, owner)) = spec.encrypt {
        // Encryption keys derive from the file identifier.
        let id = Object::String(
            b"ssot-test-file-id-0001".to_vec(),
            lopdf::StringFormat::Hexadecimal,
        );
        doc.trailer.set("ID", vec![id.clone(), id]);
        let version = EncryptionVersion::V2 {
            document: &doc,
            owner_password: owner,
            user_password: user,
            key_length: 128,
            permissions: Permissions::all(),
        };
        let state = EncryptionState::try_from(version).unwrap();
        doc.encrypt(&state).unwrap();
    }
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// A one-font, compressed PDF of these pages.
pub fn pdf(pages: &[&[&str]]) -> Vec<u8> {
    build(&Spec::pages(pages.iter().map(|p| p.to_vec()).collect()))
}

/// These pages, then one whose content stream is damaged (it claims to be
/// compressed but is not), so its text cannot be read.
pub fn with_broken_page(pages: &[&[&str]]) -> Vec<u8> {
    let mut all: Vec<Vec<&str>> = pages.iter().map(|p| p.to_vec()).collect();
    all.push(vec!["this page will be damaged"]);
    let built = build(&Spec {
        compress: false,
        ..Spec::pages(all)
    });
    let mut doc = Document::load_mem(&built).unwrap();
    let last = *doc.get_pages().values().last().unwrap();
    let content = doc.get_page_contents(last)[0];
    let stream = doc
        .get_object_mut(content)
        .unwrap()
        .as_stream_mut()
        .unwrap();
    stream.dict.set("Filter", "FlateDecode");
    stream.set_content(b"definitely not zlib data".to_vec());
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// A page holding nothing but a small grey image: a scan without a text layer.
pub fn image_only() -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let image = doc.add_object(Stream::new(
        dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => 2, "Height" => 2, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
        vec![0, 255, 255, 0],
    ));
    let resources = doc.add_object(dictionary! { "XObject" => dictionary! { "Im0" => image } });
    let content = Content {
        operations: vec![
            Operation::new("q", vec![]),
            Operation::new(
                "cm",
                vec![
                    500.into(),
                    0.into(),
                    0.into(),
                    700.into(),
                    40.into(),
                    60.into(),
                ],
            ),
            Operation::new("Do", vec!["Im0".into()]),
            Operation::new("Q", vec![]),
        ],
    };
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
    let page = doc.add_object(
        dictionary! { "Type" => "Page", "Parent" => pages_id, "Contents" => content_id },
    );
    let mut doc = finish(doc, pages_id, vec![page.into()], resources);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// A PDF cut off halfway: no cross-reference table, no trailer.
pub fn corrupt() -> Vec<u8> {
    let mut bytes = pdf(&[&["Policy period: 2026-01-01 to 2027-12-31"]]);
    bytes.truncate(bytes.len() / 2);
    bytes
}

/// A certificate of insurance as insurers issue them (ASCII: the standard
/// fonts carry no Polish letters; text uploads test those).
pub fn insurance_certificate(insured: &str, from: &str, to: &str) -> Vec<u8> {
    let insured_line = format!("Insured (Ubezpieczony): {insured}");
    let period = format!("Policy period: from {from} to {to}");
    build(&Spec {
        pages: vec![
            vec![
                "CERTIFICATE OF INSURANCE",
                "Insurer: PZU SA, al. Jana Pawla II 24, Warszawa",
                "Policy no. OC/2026/000123",
            ],
            vec![
                &insured_line,
                &period,
                "Cover: third-party civil liability (OC), sum insured 1 000 000 PLN",
            ],
        ],
        fonts: vec!["Helvetica", "Times-Roman"],
        compress: true,
        encrypt: None,
    })
}
