//! Property tests of the Google Forms mapping: arbitrary answers through an
//! arbitrary mapping never panic; a bad answer is a validation error naming
//! its field; answers no question maps are kept as they came.

use proptest::prelude::*;

use super::contact::{ContactKind, NewContact};
use super::ids::ContactId;
use super::intake::{FormField, FormMapping, FormResponse};
use super::project::NewProject;
use super::validation::ValidationErrors;

const FIELDS: [FormField; 10] = [
    FormField::FullName,
    FormField::Email,
    FormField::Phone,
    FormField::LegalName,
    FormField::TaxId,
    FormField::Title,
    FormField::Spec,
    FormField::Skills,
    FormField::Industry,
    FormField::RequiredDocuments,
];

/// Question titles, few enough that mappings and answers often meet.
fn question() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "E-mail", " e-mail ", "NIP", "Imię", "Opis", "Tytuł", ""
        ])
        .prop_map(str::to_owned),
        "\\PC{0,20}",
    ]
}

fn answer() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,40}",
        "(.|\n){0,200}",
        Just("a@b.pl".to_owned()),
        Just("x".repeat(30_000))
    ]
}

fn mapping() -> impl Strategy<Value = FormMapping> {
    let fields =
        prop::collection::btree_map(question(), prop::sample::select(FIELDS.to_vec()), 0..8);
    (fields, "\\PC{0,30}(\\{name\\})?").prop_map(|(fields, default_title)| FormMapping {
        fields,
        default_title,
    })
}

fn response() -> impl Strategy<Value = FormResponse> {
    let answers = prop::collection::vec((question(), prop::collection::vec(answer(), 0..3)), 0..8);
    (answers, prop::option::of("\\PC{0,30}")).prop_map(|(answers, respondent_email)| FormResponse {
        response_id: "resp-1".into(),
        form_id: Some("form-1".into()),
        submitted_at: None,
        respondent_email,
        answers,
    })
}

/// Every error names a field a person can find on the form.
fn names_fields(errors: &ValidationErrors) -> Result<(), String> {
    match errors
        .0
        .iter()
        .find(|e| e.field.is_empty() || e.message.is_empty())
    {
        Some(e) => Err(format!("an error without field or message: {e:?}")),
        None if errors.is_empty() => Err("refused without a reason".into()),
        None => Ok(()),
    }
}

/// The mapping the agency ships, and a response that fills it well.
fn agency() -> (FormMapping, Vec<(String, Vec<String>)>) {
    let pairs = [
        ("Imię i nazwisko", FormField::FullName, "Anna Kowalska"),
        ("E-mail", FormField::Email, "anna@kowalska-meble.pl"),
        ("Telefon", FormField::Phone, "+48 600 100 200"),
        ("NIP", FormField::TaxId, "526-000-12-46"),
        (
            "Co chcesz zautomatyzować?",
            FormField::Title,
            "Fakturowanie",
        ),
        (
            "Opis",
            FormField::Spec,
            "Co miesiąc 40 godzin ręcznego fakturowania.",
        ),
        (
            "Dokumenty",
            FormField::RequiredDocuments,
            "nda, insurance_certificate",
        ),
        ("Branża", FormField::Industry, "retail"),
    ];
    let mapping = FormMapping {
        fields: pairs.iter().map(|(q, f, _)| (q.to_string(), *f)).collect(),
        default_title: "Consultation request from {name}".into(),
    };
    let answers = pairs
        .iter()
        .map(|(q, _, a)| (q.to_string(), vec![a.to_string()]))
        .collect();
    (mapping, answers)
}

/// Reads a response through the agency's mapping into contact and project.
fn intake(answers: Vec<(String, Vec<String>)>) -> Result<(), ValidationErrors> {
    let (mapping, _) = agency();
    let response = FormResponse {
        response_id: "r".into(),
        form_id: None,
        submitted_at: None,
        respondent_email: None,
        answers,
    };
    let intake = mapping.read(&response)?;
    NewContact::parse(ContactKind::Client, &intake.contact)?;
    NewProject::parse(intake.project(ContactId::new())).map(|_| ())
}

/// Answers that break a field's rule, with the field that must say so.
fn bad_answer() -> impl Strategy<Value = (&'static str, String, &'static str)> {
    prop_oneof![
        "[a-z ]{0,20}".prop_map(|a| ("E-mail", a, "email")),
        "\\s{0,3}".prop_map(|a| ("Imię i nazwisko", a, "full_name")),
        "[a-z]{1,10}".prop_map(|a| ("Telefon", a, "phone")),
        "[0-9]{1,4}|[A-Z]{2}[#!?][0-9]{10}".prop_map(|a| ("NIP", a, "tax_id")),
        "[A-Z!]{1,10}".prop_map(|a| ("Dokumenty", a, "required_documents[0]")),
        "[a-z]{201,260}".prop_map(|a| ("Co chcesz zautomatyzować?", a, "title")),
        "[a-z]{1,5}\u{7}[a-z]{1,5}".prop_map(|a| ("Branża", a, "industry")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_answers_through_an_arbitrary_mapping_never_panic(mapping in mapping(), response in response()) {
        match mapping.read(&response) {
            Ok(intake) => {
                if let Err(e) = NewContact::parse(ContactKind::Client, &intake.contact) {
                    names_fields(&e).map_err(TestCaseError::fail)?;
                }
                if let Err(e) = NewProject::parse(intake.project(ContactId::new())) {
                    names_fields(&e).map_err(TestCaseError::fail)?;
                }
            }
            Err(e) => {
                names_fields(&e).map_err(TestCaseError::fail)?;
                prop_assert!(e.0.iter().all(|f| f.message.contains("more than one question")), "{e:?}");
            }
        }
    }

    #[test]
    fn a_bad_answer_is_a_validation_error_naming_its_field((question, bad, field) in bad_answer()) {
        let (_, mut answers) = agency();
        let slot = answers.iter_mut().find(|(q, _)| q == question).expect("a mapped question");
        slot.1 = vec![bad];
        let errors = intake(answers).expect_err("a bad answer is refused");
        prop_assert!(errors.0.iter().any(|e| e.field == field), "{field} missing from {errors:?}");
    }

    #[test]
    fn unmapped_answers_are_kept_as_they_came(extra in prop::collection::vec(("[a-z]{1,12}", "\\PC{0,40}"), 1..5)) {
        let (mapping, mut answers) = agency();
        // Numbered, so no two collide and none meets a mapped question.
        let extra: Vec<(String, String)> = extra.into_iter().enumerate().map(|(n, (q, a))| (format!("{q} {n}?"), a)).collect();
        answers.extend(extra.iter().map(|(q, a)| (q.clone(), vec![a.clone()])));
        let response = FormResponse { response_id: "r".into(), form_id: None, submitted_at: None, respondent_email: None, answers };
        let project = mapping.read(&response).unwrap().project(ContactId::new());
        for (q, a) in &extra {
            prop_assert_eq!(project.intake.get(q).and_then(|v| v.as_str()), Some(a.as_str()));
        }
        prop_assert!(NewProject::parse(project).is_ok());
    }
}

#[test]
fn the_agency_response_is_valid_so_each_bad_answer_is_the_only_fault() {
    let (_, answers) = agency();
    assert_eq!(intake(answers), Ok(()));
}
