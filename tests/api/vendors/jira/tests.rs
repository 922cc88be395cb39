//! Self-tests: the Jira fake, called with `reqwest`, behaves as the documented API.

use super::*;
use crate::vendors::{outbound, send};

const EMAIL: &str = "bot@agency.example";
const API_TOKEN: &str = "ATATT3xFfGF0-test-token";

/// A started fake with one lead user, and a client that authenticates.
async fn started() -> (JiraFake, Jira) {
    let fake = JiraFake::start(EMAIL, API_TOKEN).await;
    fake.add_user("557058:lead", "Agency Lead", "lead@agency.example");
    fake.add_user("557058:ewa", "Ewa Nowak", "ewa@expert.example");
    let client = Jira {
        http: outbound(),
        base: format!("{}{API}", fake.base_url),
    };
    (fake, client)
}

struct Jira {
    http: reqwest::Client,
    base: String,
}

impl Jira {
    fn call(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(EMAIL, Some(API_TOKEN))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        send(self.call(reqwest::Method::POST, path).json(&body)).await
    }

    async fn project(&self, key: &str) -> (u16, Value) {
        let body = json!({
            "key": key, "name": format!("Client {key}"), "projectTypeKey": "business",
            "projectTemplateKey": "com.atlassian.jira-core-project-templates:jira-core-simplified-task-tracking",
            "leadAccountId": "557058:lead", "description": "onboarding",
        });
        self.post("/project", body).await
    }

    async fn issue(&self, key: &str, summary: &str, labels: &[&str]) -> (u16, Value) {
        let adf = json!({ "type": "doc", "version": 1, "content": [{ "type": "paragraph", "content": [{ "type": "text", "text": summary }] }] });
        let fields = json!({ "project": { "key": key }, "issuetype": { "name": "Task" }, "summary": summary, "description": adf, "labels": labels });
        self.post("/issue", json!({ "fields": fields })).await
    }
}

#[tokio::test]
async fn jira_refuses_calls_without_the_right_basic_credentials() {
    let (jira, client) = started().await;
    let url = format!("{}/project", client.base);
    let body = json!({ "key": "ACME", "name": "ACME", "projectTypeKey": "business", "leadAccountId": "557058:lead" });

    let (status, error) = send(client.http.post(&url).json(&body)).await;
    assert_eq!(status, 401);
    assert!(
        error["errorMessages"][0].is_string() && error["errors"].is_object(),
        "{error}"
    );
    let (status, _) = send(
        client
            .http
            .post(&url)
            .basic_auth(EMAIL, Some("wrong"))
            .json(&body),
    )
    .await;
    assert_eq!(status, 401);
    assert!(jira.projects().is_empty());
}

#[tokio::test]
async fn a_jira_project_is_created_staffed_and_worked_through_the_workflow() {
    let (jira, client) = started().await;
    let (status, created) = client.project("ACME").await;
    assert_eq!(status, 201, "{created}");
    assert!(created["id"].is_u64() && created["key"] == "ACME");

    let (_, roles) = send(client.call(reqwest::Method::GET, "/project/ACME/role")).await;
    let member_url = roles["Member"].as_str().expect("a role URL");
    assert!(member_url.ends_with("/rest/api/3/project/ACME/role/10003"));
    let (_, found) = send(
        client
            .call(reqwest::Method::GET, "/user/search")
            .query(&[("query", "ewa@expert")]),
    )
    .await;
    let account = found[0]["accountId"].as_str().expect("a user");
    let (status, role) = client
        .post("/project/ACME/role/10003", json!({ "user": [account] }))
        .await;
    assert_eq!(
        (status, &role["actors"][0]["actorUser"]["accountId"]),
        (200, &json!(account)),
        "{role}"
    );
    assert_eq!(
        client
            .post("/project/ACME/role/10003", json!({ "user": [account] }))
            .await
            .0,
        200
    );
    assert_eq!(jira.role_members("ACME", "Member"), [account]);

    let (status, issue) = client.issue("ACME", "Verify insurance", &["ext-42"]).await;
    assert_eq!((status, &issue["key"]), (201, &json!("ACME-1")), "{issue}");
    let put = client
        .call(reqwest::Method::PUT, "/issue/ACME-1/properties/ssot")
        .json(&json!({ "id": 42 }));
    assert_eq!(send(put).await.0, 201);
    let put = client
        .call(reqwest::Method::PUT, "/issue/ACME-1/properties/ssot")
        .json(&json!({ "id": 43 }));
    assert_eq!(send(put).await.0, 200);

    let (_, transitions) =
        send(client.call(reqwest::Method::GET, "/issue/ACME-1/transitions")).await;
    let names: Vec<&str> = transitions["transitions"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["In Progress", "Done", "Blocked"]);
    let (status, _) = client
        .post(
            "/issue/ACME-1/transitions",
            json!({ "transition": { "id": "11" } }),
        )
        .await;
    assert_eq!(status, 400, "To Do is where it already is");
    assert_eq!(
        client
            .post(
                "/issue/ACME-1/transitions",
                json!({ "transition": { "id": "31" } })
            )
            .await
            .0,
        204
    );
    let (_, read) = send(client.call(reqwest::Method::GET, "/issue/ACME-1")).await;
    assert_eq!(read["fields"]["status"]["statusCategory"]["key"], "done");

    let delete = client.call(
        reqwest::Method::DELETE,
        &format!("/project/ACME/role/10003?user={account}"),
    );
    assert_eq!(send(delete).await.0, 204);
    let delete = client.call(
        reqwest::Method::DELETE,
        &format!("/project/ACME/role/10003?user={account}"),
    );
    assert_eq!(send(delete).await.0, 404);
    assert_eq!(
        jira.issues("ACME")[0]["properties"]["ssot"],
        json!({ "id": 43 })
    );
}

#[tokio::test]
async fn jira_refuses_bad_projects_issues_and_grants_in_its_own_words() {
    let (jira, client) = started().await;
    assert_eq!(client.project("ACME").await.0, 201);

    let (status, error) = client.project("ACME").await;
    assert_eq!(status, 400);
    assert_eq!(
        error["errors"]["projectKey"],
        "A project with that project key already exists."
    );
    let (status, error) = client.project("acme2").await;
    assert_eq!(status, 400);
    assert!(error["errors"]["projectKey"].is_string());
    let extra = json!({ "key": "NEW", "name": "New", "projectTypeKey": "business", "leadAccountId": "557058:lead", "colour": "red" });
    assert_eq!(client.post("/project", extra).await.0, 400);
    let ghost_lead = json!({ "key": "NEW", "name": "New", "projectTypeKey": "business", "leadAccountId": "nobody" });
    assert_eq!(
        client.post("/project", ghost_lead).await.1["errors"]["projectLead"],
        "You must specify a valid project lead."
    );

    let (status, error) = client.issue("ACME", "Spaces", &["has space"]).await;
    assert_eq!(status, 400);
    assert!(
        error["errors"]["labels"]
            .as_str()
            .is_some_and(|m| m.contains("spaces")),
        "{error}"
    );
    let plain = json!({ "fields": { "project": { "key": "ACME" }, "issuetype": { "name": "Task" }, "summary": "x", "description": "plain text" } });
    assert!(client.post("/issue", plain).await.1["errors"]["description"].is_string());
    let (status, _) = client.issue("NOPE", "No project", &[]).await;
    assert_eq!(status, 400);

    jira.deactivate_user("557058:ewa");
    assert_eq!(
        client
            .post(
                "/project/ACME/role/10003",
                json!({ "user": ["557058:ewa"] })
            )
            .await
            .0,
        404
    );
    assert_eq!(
        client
            .post(
                "/project/ACME/role/10003",
                json!({ "user": ["557058:ghost"] })
            )
            .await
            .0,
        404
    );
    assert!(jira.role_members("ACME", "Member").is_empty());
    assert!(jira.issues("ACME").is_empty());
}

#[tokio::test]
async fn jira_search_needs_a_bounded_query_and_pages_by_token() {
    let (_jira, client) = started().await;
    client.project("ACME").await;
    client.project("OTHER").await;
    for n in 1..=7 {
        client
            .issue(
                "ACME",
                &format!("Task {n}"),
                &[if n % 2 == 0 { "even" } else { "odd" }],
            )
            .await;
    }
    client.issue("OTHER", "Elsewhere", &["odd"]).await;

    let (status, error) = client
        .post("/search/jql", json!({ "jql": "ORDER BY key ASC" }))
        .await;
    assert_eq!(status, 400);
    assert!(
        error["errorMessages"][0]
            .as_str()
            .is_some_and(|m| m.contains("Unbounded"))
    );
    assert_eq!(
        send(
            client
                .call(reqwest::Method::GET, "/search")
                .query(&[("jql", "project = ACME")])
        )
        .await
        .0,
        410
    );

    let (_, first) = client
        .post(
            "/search/jql",
            json!({ "jql": "project = ACME ORDER BY key ASC", "maxResults": 3 }),
        )
        .await;
    assert_eq!(
        first["issues"][0],
        json!({ "id": "10000" }),
        "the default fields are the id only"
    );
    assert_eq!(first["isLast"], false);
    assert!(first.get("total").is_none());
    let mut keys = Vec::new();
    let mut token = first["nextPageToken"].as_str().map(str::to_owned);
    while let Some(t) = token {
        let query = [
            ("jql", "project = ACME ORDER BY key ASC"),
            ("maxResults", "3"),
            ("fields", "summary,labels"),
            ("nextPageToken", t.as_str()),
        ];
        let (status, page) = send(
            client
                .call(reqwest::Method::GET, "/search/jql")
                .query(&query),
        )
        .await;
        assert_eq!(status, 200, "{page}");
        for issue in page["issues"].as_array().expect("issues") {
            keys.push(issue["key"].as_str().expect("a key").to_owned());
            assert!(
                issue["fields"]["summary"].is_string() && issue["fields"].get("status").is_none()
            );
        }
        token = page["nextPageToken"].as_str().map(str::to_owned);
        assert_eq!(page["isLast"], token.is_none());
    }
    assert_eq!(keys, ["ACME-4", "ACME-5", "ACME-6", "ACME-7"]);

    let body = json!({ "jql": "project = \"ACME\" AND labels = \"even\"", "fields": ["*all"] });
    let (_, evens) = client.post("/search/jql", body).await;
    assert_eq!(evens["issues"].as_array().map(Vec::len), Some(3));
    assert_eq!(evens["issues"][0]["fields"]["status"]["name"], "To Do");
    assert_eq!(
        client
            .post("/search/jql", json!({ "jql": "project = NOPE" }))
            .await
            .0,
        400
    );
    assert_eq!(
        client
            .post(
                "/search/jql",
                json!({ "jql": "project = ACME", "startAt": 0 })
            )
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn a_jira_fault_answers_in_jiras_words_and_changes_nothing() {
    let (jira, client) = started().await;
    client.project("ACME").await;
    jira.inject_on(
        "/issue",
        Fault::RateLimited {
            retry_after_secs: 5,
        },
        1,
    );
    jira.inject(Fault::ServerError, 1);

    let response = client
        .call(reqwest::Method::POST, "/issue")
        .json(&json!({ "fields": { "project": { "key": "ACME" }, "issuetype": { "name": "Task" }, "summary": "x" } }))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 429);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("5")
    );
    assert!(response.json::<Value>().await.expect("JSON")["errorMessages"].is_array());
    let (status, error) = client.issue("ACME", "x", &[]).await;
    assert_eq!((status, error["errorMessages"].is_array()), (500, true));
    assert!(jira.issues("ACME").is_empty());

    jira.inject(Fault::Slow(std::time::Duration::from_millis(400)), 1);
    let hurried = client
        .call(reqwest::Method::GET, "/project/ACME")
        .timeout(std::time::Duration::from_millis(100));
    assert!(hurried.send().await.expect_err("too slow").is_timeout());

    assert_eq!(client.issue("ACME", "x", &[]).await.0, 201);
    let posts = jira
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/rest/api/3/issue")
        .count();
    assert_eq!(posts, 3);
}

#[tokio::test]
async fn a_deleted_jira_project_is_gone_and_holds_its_key_until_purged() {
    let (jira, client) = started().await;
    client.project("ACME").await;
    assert_eq!(
        send(client.call(reqwest::Method::DELETE, "/project/ACME"))
            .await
            .0,
        204
    );
    assert_eq!(
        send(client.call(reqwest::Method::GET, "/project/ACME"))
            .await
            .0,
        404
    );
    let seen = jira.project("ACME").expect("remembered");
    assert_eq!(
        (&seen["deleted"], &seen["inRecycleBin"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(
        client.project("ACME").await.0,
        400,
        "the recycle bin holds the key"
    );

    client.project("TEMP").await;
    let purge = client
        .call(reqwest::Method::DELETE, "/project/TEMP")
        .query(&[("enableUndo", "false")]);
    assert_eq!(send(purge).await.0, 204);
    assert_eq!(
        jira.project("TEMP").expect("remembered")["inRecycleBin"],
        false
    );
    assert_eq!(client.project("TEMP").await.0, 201);
    assert_eq!(jira.projects(), ["TEMP"]);
}
