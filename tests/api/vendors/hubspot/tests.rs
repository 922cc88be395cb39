//! Self-tests: the HubSpot fake, called with `reqwest`, behaves as the documented API.

use super::*;
use crate::vendors::{Sink, outbound, send};

const TOKEN: &str = "pat-eu1-11111111-2222-3333-4444-555555555555";
const CLIENT_SECRET: &str = "client-secret-for-v3";

async fn started() -> (HubSpotFake, reqwest::Client) {
    (HubSpotFake::start(TOKEN, CLIENT_SECRET).await, outbound())
}

impl HubSpotFake {
    fn call(
        &self,
        http: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        http.request(method, format!("{}{path}", self.base_url))
            .bearer_auth(TOKEN)
    }
}

#[tokio::test]
async fn hubspot_refuses_a_missing_or_wrong_token() {
    let (hubspot, http) = started().await;
    let url = format!("{}/crm/v3/objects/contacts", hubspot.base_url);
    let body = json!({ "properties": { "email": "a@b.pl" }, "associations": [] });

    let (status, error) = send(http.post(&url).json(&body)).await;
    assert_eq!(
        (status, &error["category"]),
        (401, &json!("INVALID_AUTHENTICATION"))
    );
    assert_eq!(error["status"], "error");
    assert!(error["correlationId"].is_string());
    let (status, _) = send(http.post(&url).bearer_auth("pat-wrong").json(&body)).await;
    assert_eq!(status, 401);
    assert!(hubspot.contacts().is_empty());
}

#[tokio::test]
async fn hubspot_keeps_emails_and_custom_unique_values_unique() {
    let (hubspot, http) = started().await;
    let post = |path: &str| hubspot.call(&http, reqwest::Method::POST, path);
    let contact = |email: &str, ext: &str| json!({ "properties": { "email": email, "ssot_external_id": ext }, "associations": [] });

    let (status, error) =
        send(post("/crm/v3/objects/contacts").json(&contact("jan@acme.pl", "ext-1"))).await;
    assert_eq!(
        (status, &error["category"]),
        (400, &json!("VALIDATION_ERROR")),
        "{error}"
    );
    assert_eq!(error["errors"][0]["code"], "PROPERTY_DOESNT_EXIST");
    assert_eq!(
        error["errors"][0]["context"]["propertyName"][0],
        "ssot_external_id"
    );
    assert!(hubspot.contacts().is_empty());

    let definition = json!({ "name": "ssot_external_id", "label": "SSoT id", "groupName": "contactinformation", "type": "string", "fieldType": "text", "hasUniqueValue": true });
    assert_eq!(
        send(post("/crm/v3/properties/contacts").json(&definition))
            .await
            .0,
        201
    );
    let (status, error) = send(post("/crm/v3/properties/contacts").json(&definition)).await;
    assert_eq!((status, &error["category"]), (409, &json!("CONFLICT")));

    let (status, created) =
        send(post("/crm/v3/objects/contacts").json(&contact("Jan@Acme.pl", "ext-1"))).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("a string id").to_owned();
    assert_eq!(created["properties"]["email"], "jan@acme.pl");
    assert_eq!(created["archived"], false);

    let (status, error) =
        send(post("/crm/v3/objects/contacts").json(&contact("JAN@acme.pl", "ext-2"))).await;
    assert_eq!((status, &error["category"]), (409, &json!("CONFLICT")));
    assert_eq!(
        error["message"],
        format!("Contact already exists. Existing ID: {id}")
    );
    let (status, _) =
        send(post("/crm/v3/objects/contacts").json(&contact("other@acme.pl", "ext-1"))).await;
    assert_eq!(status, 409);
    assert_eq!(hubspot.contacts().len(), 1);

    let get = hubspot.call(
        &http,
        reqwest::Method::GET,
        "/crm/v3/objects/contacts/jan@acme.pl",
    );
    let (status, read) = send(get.query(&[
        ("idProperty", "email"),
        ("properties", "ssot_external_id,phone"),
    ]))
    .await;
    assert_eq!((status, read["id"].as_str()), (200, Some(id.as_str())));
    assert_eq!(
        (
            &read["properties"]["ssot_external_id"],
            &read["properties"]["phone"]
        ),
        (&json!("ext-1"), &Value::Null)
    );
}

#[tokio::test]
async fn hubspot_upserts_in_batches_and_reports_partial_failure_as_207() {
    let (hubspot, http) = started().await;
    let upsert = |inputs: Value| {
        hubspot
            .call(
                &http,
                reqwest::Method::POST,
                "/crm/v3/objects/contacts/batch/upsert",
            )
            .json(&json!({ "inputs": inputs }))
    };

    let first = json!([{ "idProperty": "email", "id": "ewa@firma.pl", "properties": { "firstname": "Ewa" } }]);
    let (status, reply) = send(upsert(first)).await;
    assert_eq!(
        (status, &reply["status"]),
        (200, &json!("COMPLETE")),
        "{reply}"
    );
    assert_eq!(reply["results"][0]["new"], true);
    let id = reply["results"][0]["id"].clone();

    let second = json!([
        { "idProperty": "email", "id": "EWA@firma.pl", "properties": { "lastname": "Nowak" } },
        { "idProperty": "email", "id": "piotr@firma.pl", "properties": { "no_such_property": "x" } },
    ]);
    let (status, reply) = send(upsert(second)).await;
    assert_eq!(status, 207, "{reply}");
    assert_eq!(
        (&reply["results"][0]["id"], &reply["results"][0]["new"]),
        (&id, &json!(false))
    );
    assert_eq!(
        (
            reply["numErrors"].as_u64(),
            reply["errors"].as_array().map(Vec::len)
        ),
        (Some(1), Some(1))
    );
    let ewa = hubspot.contact_by_email("ewa@firma.pl").expect("upserted");
    assert_eq!(
        (
            &ewa["properties"]["firstname"],
            &ewa["properties"]["lastname"]
        ),
        (&json!("Ewa"), &json!("Nowak"))
    );
    assert!(hubspot.contact_by_email("piotr@firma.pl").is_none());

    let by_name = json!([{ "idProperty": "firstname", "id": "Ewa", "properties": {} }]);
    assert_eq!(send(upsert(by_name)).await.0, 400);

    let search = hubspot.call(&http, reqwest::Method::POST, "/crm/v3/objects/contacts/search").json(&json!({
        "filterGroups": [{ "filters": [{ "propertyName": "email", "operator": "IN", "values": ["ewa@firma.pl", "x@y.pl"] }] }],
        "properties": ["lastname"], "sorts": [{ "propertyName": "createdate", "direction": "DESCENDING" }],
    }));
    let (status, found) = send(search).await;
    assert_eq!((status, found["total"].as_u64()), (200, Some(1)), "{found}");
    assert_eq!(found["results"][0]["properties"]["lastname"], "Nowak");
}

#[tokio::test]
async fn hubspot_associates_a_deal_with_a_contact_both_ways() {
    let (hubspot, http) = started().await;
    let post =
        |path: &str, body: Value| hubspot.call(&http, reqwest::Method::POST, path).json(&body);
    let (_, contact) = send(post(
        "/crm/v3/objects/contacts",
        json!({ "properties": { "email": "k@acme.pl" }, "associations": [] }),
    ))
    .await;
    let (status, deal) = send(post("/crm/v3/objects/deals", json!({ "properties": { "dealname": "ACME onboarding", "dealstage": "appointmentscheduled", "pipeline": "default" }, "associations": [] }))).await;
    assert_eq!(status, 201, "{deal}");
    let (contact, deal) = (
        contact["id"].as_str().expect("id"),
        deal["id"].as_str().expect("id"),
    );

    let path = format!("/crm/v4/objects/deals/{deal}/associations/default/contacts/{contact}");
    let (status, reply) = send(hubspot.call(&http, reqwest::Method::PUT, &path)).await;
    assert_eq!(
        (status, &reply["status"]),
        (200, &json!("COMPLETE")),
        "{reply}"
    );
    assert_eq!(hubspot.associations("contacts", contact, "deals"), [deal]);
    let path = format!("/crm/v4/objects/contacts/{contact}/associations/deals");
    let (_, listed) = send(hubspot.call(&http, reqwest::Method::GET, &path)).await;
    assert_eq!(
        listed["results"][0]["toObjectId"].as_u64(),
        deal.parse().ok()
    );

    let path = format!("/crm/v4/objects/deals/{deal}/associations/default/contacts/999999");
    assert_eq!(
        send(hubspot.call(&http, reqwest::Method::PUT, &path))
            .await
            .0,
        404
    );
    let (status, error) = send(post(
        "/crm/v3/objects/deals",
        json!({ "properties": { "dealname": "x", "dealstage": "nope" }, "associations": [] }),
    ))
    .await;
    assert_eq!(
        (status, &error["category"]),
        (400, &json!("VALIDATION_ERROR"))
    );
}

#[tokio::test]
async fn a_hubspot_fault_answers_in_hubspots_words_and_changes_nothing() {
    let (hubspot, http) = started().await;
    let create = || {
        hubspot
            .call(&http, reqwest::Method::POST, "/crm/v3/objects/contacts")
            .json(&json!({ "properties": { "email": "z@acme.pl" }, "associations": [] }))
    };
    hubspot.inject_on(
        "/objects/contacts",
        Fault::RateLimited {
            retry_after_secs: 7,
        },
        1,
    );
    hubspot.inject(Fault::Malformed, 1);

    let response = create().send().await.expect("an answer");
    assert_eq!(response.status(), 429);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("7")
    );
    let body: Value = response.json().await.expect("a JSON 429");
    assert_eq!(body["category"], "RATE_LIMITS");
    let response = create().send().await.expect("an answer");
    assert_eq!(response.status(), 200);
    assert!(
        response.json::<Value>().await.is_err(),
        "a malformed body does not parse"
    );
    assert!(hubspot.contacts().is_empty());

    assert_eq!(send(create()).await.0, 201);
    assert_eq!(
        hubspot
            .requests()
            .iter()
            .filter(|r| r.path == "/crm/v3/objects/contacts")
            .count(),
        3
    );
}

#[tokio::test]
async fn a_hubspot_property_change_arrives_signed_with_v3() {
    let (hubspot, http) = started().await;
    let sink = Sink::start("/hooks/hubspot?portal=62515").await;
    hubspot.set_webhook_target(&sink.url);
    let create = hubspot.call(&http, reqwest::Method::POST, "/crm/v3/objects/contacts");
    let (_, contact) =
        send(create.json(&json!({ "properties": { "email": "ola@acme.pl" }, "associations": [] })))
            .await;
    let id = contact["id"].as_str().expect("an id");

    assert_eq!(
        hubspot
            .user_changes_contact(id, "phone", "+48 600 100 200")
            .await,
        200
    );
    let delivery = &sink.received()[0];
    let timestamp = delivery
        .header("x-hubspot-request-timestamp")
        .expect("a timestamp");
    let age = now_ms() - timestamp.parse::<i64>().expect("epoch ms");
    assert!((0..5 * 60 * 1000).contains(&age));
    let mut mac = Hmac::<Sha256>::new_from_slice(CLIENT_SECRET.as_bytes()).expect("any key");
    mac.update(format!("POST{}{}{timestamp}", sink.url, delivery.body).as_bytes());
    let expected = BASE64.encode(mac.finalize().into_bytes());
    assert_eq!(
        delivery.header("x-hubspot-signature-v3"),
        Some(expected.as_str())
    );
    assert_eq!(
        sign_v3(CLIENT_SECRET, "POST", &sink.url, &delivery.body, timestamp),
        expected
    );

    let events: Value = serde_json::from_str(&delivery.body).expect("a JSON array");
    assert_eq!(events[0]["subscriptionType"], "contact.propertyChange");
    assert_eq!(
        (&events[0]["propertyName"], &events[0]["propertyValue"]),
        (&json!("phone"), &json!("+48 600 100 200"))
    );
    assert_eq!(events[0]["objectId"].as_u64(), id.parse().ok());
    assert_eq!(
        hubspot.contact_by_email("ola@acme.pl").expect("stored")["properties"]["phone"],
        "+48 600 100 200"
    );
}
