//! Property tests of the request bodies the API reads into domain inputs:
//! arbitrary JSON, mutated valid bodies, unknown fields and deep nesting go
//! through serde and validation without a panic, and every refusal is a
//! serde error or a validation error naming its field.

use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::contact::{ContactInput, ContactKind, ContactPatchInput, NewContact};
use super::expert::{ExpertProfile, NewExpertInput, ProfileInput};
use super::metrics::{Baseline, Outcome};
use super::project::{NewProject, NewProjectInput};
use super::task::{NewTask, NewTaskInput, TaskPatchInput};
use super::ticket::{
    NewMessageInput, NewTicketInput, TicketStatusInput, parse_body, parse_subject,
};
use super::validation::ValidationErrors;

/// The field names the inputs know, so random objects often hit them.
const KEYS: [&str; 22] = [
    "client_id",
    "title",
    "spec",
    "skills",
    "industry",
    "required_documents",
    "intake",
    "full_name",
    "email",
    "phone",
    "legal_name",
    "tax_id",
    "hourly_rate",
    "capacity",
    "rating",
    "description",
    "status",
    "subject",
    "body",
    "hours_before",
    "price",
    "cost",
];

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::from),
        Just(json!("01234567-89ab-7def-8123-456789abcdef")),
        Just(json!("x".repeat(70_000))),
    ];
    let key = prop_oneof![
        prop::sample::select(KEYS.to_vec()).prop_map(str::to_owned),
        "\\PC{0,8}"
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn names_fields(errors: &ValidationErrors) -> Result<(), String> {
    if !errors.is_empty()
        && errors
            .0
            .iter()
            .all(|e| !e.field.is_empty() && !e.message.is_empty())
    {
        Ok(())
    } else {
        Err(format!("refused without naming a field: {errors:?}"))
    }
}

/// Reads `bytes` as `T` and validates it with `validate`, as the API does.
fn through<T: DeserializeOwned, U>(
    bytes: &[u8],
    validate: impl FnOnce(T) -> Result<U, ValidationErrors>,
) -> Result<(), String> {
    match serde_json::from_slice::<T>(bytes) {
        Ok(input) => validate(input).map(|_| ()).or_else(|e| names_fields(&e)),
        Err(e) if e.to_string().is_empty() => Err("a serde error without a message".into()),
        Err(_) => Ok(()),
    }
}

/// Every input type the API reads from a JSON body.
fn every_input(bytes: &[u8]) -> Result<(), String> {
    through(bytes, NewProject::parse)?;
    through(bytes, |c: ContactInput| {
        NewContact::parse(ContactKind::Client, &c)
    })?;
    through(bytes, |e: NewExpertInput| {
        NewContact::parse(ContactKind::Expert, &e.contact())?;
        ExpertProfile::parse(&e.profile())
    })?;
    through(bytes, |p: ProfileInput| ExpertProfile::parse(&p))?;
    through(bytes, |p: ContactPatchInput| {
        let mut contact = stored_contact();
        contact.apply_patch(&p)
    })?;
    through(bytes, |t: NewTaskInput| NewTask::parse(&t))?;
    through(bytes, |_: TaskPatchInput| Ok(()))?;
    through(bytes, |t: NewTicketInput| {
        parse_subject(&t.subject).and(parse_body(&t.body))
    })?;
    through(bytes, |m: NewMessageInput| parse_body(&m.body))?;
    through(bytes, |_: TicketStatusInput| Ok(()))?;
    through(bytes, Baseline::validate)?;
    through(bytes, Outcome::validate)
}

fn stored_contact() -> super::contact::Contact {
    let now = time::OffsetDateTime::now_utc();
    super::contact::Contact {
        id: super::ids::ContactId::new(),
        kind: ContactKind::Client,
        full_name: "Anna Kowalska".into(),
        email: super::contact::Email::parse("anna@kowalska.pl").unwrap(),
        phone: None,
        legal_name: None,
        tax_id: None,
        properties: Default::default(),
        crm_ref: None,
        atlassian_account_id: None,
        created_at: now,
        updated_at: now,
    }
}

/// Valid bodies of the main inputs, to mutate.
fn valid_bodies() -> Vec<Value> {
    vec![
        json!({ "client_id": "01234567-89ab-7def-8123-456789abcdef", "title": "Invoices", "spec": "Automate them",
                "skills": ["automation"], "industry": "retail", "required_documents": ["nda"], "intake": { "hours": 40 } }),
        json!({ "full_name": "Anna Kowalska", "email": "anna@kowalska.pl", "phone": "+48 600 100 200", "tax_id": "526-000-12-46" }),
        json!({ "full_name": "Jan Nowak", "email": "jan@nowak.dev", "skills": ["rust"], "hourly_rate": 150.0, "capacity": 2, "rating": 4.5 }),
        json!({ "hours_before": 40.0, "hours_after": 10.0, "hourly_value": 120.0, "horizon_months": 12, "price": 15000.0 }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_json_never_panics_in_any_input(value in json()) {
        every_input(value.to_string().as_bytes()).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic_in_any_input(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        every_input(&bytes).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn a_valid_body_with_one_field_replaced_never_panics(
        body in prop::sample::select(valid_bodies()), field in any::<prop::sample::Index>(), value in json(),
    ) {
        let mut body = body;
        let object = body.as_object_mut().unwrap();
        let key = object.keys().nth(field.index(object.len())).unwrap().clone();
        object.insert(key, value);
        every_input(body.to_string().as_bytes()).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn an_unknown_field_in_a_valid_body_is_refused(key in "[a-z_]{1,12}", value in json()) {
        let mut body = valid_bodies().remove(0);
        prop_assume!(!body.as_object().unwrap().contains_key(&key));
        body[&key] = value;
        let error = serde_json::from_value::<NewProjectInput>(body).unwrap_err();
        prop_assert!(error.to_string().contains("unknown field"), "{error}");
    }
}

#[test]
fn the_valid_bodies_are_valid_so_their_mutations_start_from_valid() {
    let [project, contact, expert, baseline] = valid_bodies().try_into().unwrap();
    NewProject::parse(serde_json::from_value(project).unwrap()).unwrap();
    NewContact::parse(
        ContactKind::Client,
        &serde_json::from_value(contact).unwrap(),
    )
    .unwrap();
    let expert: NewExpertInput = serde_json::from_value(expert).unwrap();
    ExpertProfile::parse(&expert.profile()).unwrap();
    serde_json::from_value::<Baseline>(baseline)
        .unwrap()
        .validate()
        .unwrap();
}

#[test]
fn deeply_nested_json_is_refused_without_overflowing_the_stack() {
    let deep_array = "[".repeat(10_000);
    let deep_intake = format!(
        "{{\"client_id\":\"01234567-89ab-7def-8123-456789abcdef\",\"title\":\"t\",\"spec\":\"s\",\"intake\":{{\"a\":{}1{}}}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let deep_object = format!("{}1{}", "{\"title\":".repeat(10_000), "}".repeat(10_000));
    for body in [&deep_array, &deep_intake, &deep_object] {
        every_input(body.as_bytes()).unwrap();
        assert!(serde_json::from_str::<NewProjectInput>(body).is_err());
    }
    // Where a body nests freely (intake answers, webhook payloads), serde's
    // recursion limit is what stops it.
    for body in [&deep_array, &deep_intake] {
        let error = serde_json::from_str::<Value>(body).unwrap_err();
        assert!(error.to_string().contains("recursion limit"), "{error}");
    }
    let error = serde_json::from_str::<NewProjectInput>(&deep_intake).unwrap_err();
    assert!(error.to_string().contains("recursion limit"), "{error}");
}

#[test]
fn huge_strings_are_validation_errors_on_their_field() {
    let body = json!({ "client_id": "01234567-89ab-7def-8123-456789abcdef", "title": "x".repeat(1 << 20), "spec": "y".repeat(1 << 20) });
    let errors = NewProject::parse(serde_json::from_value(body).unwrap()).unwrap_err();
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["title", "spec"]);
}
