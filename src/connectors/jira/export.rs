//! The completion export of a Jira project: every issue as CSV (what Jira's
//! own CSV export gives, for spreadsheets) and as XML (the RSS 0.92 shape of
//! Jira's XML export, for archives). Both are built from the search results.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::Value;

use crate::connectors::ExportFile;
use crate::sheets::text as sheet_text;

/// The fields asked of the search.
pub const FIELDS: &[&str] = &[
    "summary",
    "status",
    "issuetype",
    "labels",
    "assignee",
    "created",
    "updated",
    "description",
    "comment",
];

struct Row {
    key: String,
    summary: String,
    status: String,
    issue_type: String,
    labels: Vec<String>,
    assignee: String,
    created: String,
    updated: String,
    description: String,
    comments: Vec<Comment>,
}

struct Comment {
    author: String,
    created: String,
    text: String,
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// The plain text of an Atlassian Document Format value, a line per block.
fn adf_text(v: &Value) -> String {
    fn walk(v: &Value, out: &mut String) {
        if let Some(t) = v["text"].as_str() {
            out.push_str(t);
        }
        if let Some(children) = v["content"].as_array() {
            for c in children {
                walk(c, out);
            }
            if v["type"] == "paragraph" || v["type"] == "heading" {
                out.push('\n');
            }
        }
    }
    let mut out = String::new();
    walk(v, &mut out);
    out.trim_end().to_owned()
}

fn row(issue: &Value) -> Row {
    let f = &issue["fields"];
    Row {
        key: text(&issue["key"]),
        summary: text(&f["summary"]),
        status: text(&f["status"]["name"]),
        issue_type: text(&f["issuetype"]["name"]),
        labels: f["labels"]
            .as_array()
            .map(|l| l.iter().map(text).collect())
            .unwrap_or_default(),
        assignee: text(&f["assignee"]["displayName"]),
        created: text(&f["created"]),
        updated: text(&f["updated"]),
        description: adf_text(&f["description"]),
        comments: f["comment"]["comments"]
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|c| Comment {
                        author: text(&c["author"]["displayName"]),
                        created: text(&c["created"]),
                        text: adf_text(&c["body"]),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The CSV and XML files of `issues`, named after the project key.
pub fn files(tracker_key: &str, issues: &[Value]) -> Result<Vec<ExportFile>, String> {
    let rows: Vec<Row> = issues.iter().map(row).collect();
    Ok(vec![
        ExportFile {
            filename: format!("jira-export-{tracker_key}.csv"),
            content_type: "text/csv".into(),
            body: csv(&rows).map_err(|e| e.to_string())?,
        },
        ExportFile {
            filename: format!("jira-export-{tracker_key}.xml"),
            content_type: "application/xml".into(),
            body: xml(tracker_key, &rows).map_err(|e| e.to_string())?,
        },
    ])
}

fn csv(rows: &[Row]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "Issue key",
        "Summary",
        "Status",
        "Issue Type",
        "Labels",
        "Assignee",
        "Created",
        "Updated",
        "Description",
        "Comments",
    ])?;
    for r in rows {
        // Labels cannot hold spaces, so one column joined by spaces loses nothing.
        // Text people wrote is kept text when the sheet is opened (`=…` would run).
        w.write_record([
            &r.key,
            &sheet_text(&r.summary),
            &r.status,
            &r.issue_type,
            &sheet_text(&r.labels.join(" ")),
            &sheet_text(&r.assignee),
            &r.created,
            &r.updated,
            &sheet_text(&r.description),
            &sheet_text(
                &r.comments
                    .iter()
                    .map(|c| format!("{} ({}): {}", c.author, c.created, c.text))
                    .collect::<Vec<_>>()
                    .join("\n\n"),
            ),
        ])?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8"))
}

fn xml(tracker_key: &str, rows: &[Row]) -> Result<String, std::io::Error> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Start(
        BytesStart::new("rss").with_attributes([("version", "0.92")]),
    ))?;
    w.write_event(Event::Start(BytesStart::new("channel")))?;
    element(&mut w, "title", &format!("Jira export of {tracker_key}"))?;
    for r in rows {
        w.write_event(Event::Start(BytesStart::new("item")))?;
        element(&mut w, "key", &r.key)?;
        element(&mut w, "summary", &r.summary)?;
        element(&mut w, "type", &r.issue_type)?;
        element(&mut w, "status", &r.status)?;
        element(&mut w, "assignee", &r.assignee)?;
        element(&mut w, "created", &r.created)?;
        element(&mut w, "updated", &r.updated)?;
        w.write_event(Event::Start(BytesStart::new("labels")))?;
        for l in &r.labels {
            element(&mut w, "label", l)?;
        }
        w.write_event(Event::End(BytesEnd::new("labels")))?;
        element(&mut w, "description", &r.description)?;
        w.write_event(Event::Start(BytesStart::new("comments")))?;
        for c in &r.comments {
            let start = BytesStart::new("comment").with_attributes([
                ("author", c.author.as_str()),
                ("created", c.created.as_str()),
            ]);
            w.write_event(Event::Start(start))?;
            w.write_event(Event::Text(BytesText::new(&c.text)))?;
            w.write_event(Event::End(BytesEnd::new("comment")))?;
        }
        w.write_event(Event::End(BytesEnd::new("comments")))?;
        w.write_event(Event::End(BytesEnd::new("item")))?;
    }
    w.write_event(Event::End(BytesEnd::new("channel")))?;
    w.write_event(Event::End(BytesEnd::new("rss")))?;
    Ok(String::from_utf8(w.into_inner()).expect("XML of UTF-8 text is UTF-8"))
}

fn element(w: &mut Writer<Vec<u8>>, name: &str, value: &str) -> Result<(), std::io::Error> {
    w.write_event(Event::Start(BytesStart::new(name)))?;
    w.write_event(Event::Text(BytesText::new(value)))?;
    w.write_event(Event::End(BytesEnd::new(name)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn issues() -> Vec<Value> {
        vec![json!({
            "key": "SL1A2B-1",
            "fields": {
                "summary": "Deliver: invoices, \"monthly\" <auto>",
                "status": { "name": "Done" },
                "issuetype": { "name": "Task" },
                "labels": ["ssot", "ssot-abc"],
                "assignee": null,
                "created": "2026-11-30T10:00:00.000+0000",
                "updated": "2026-12-01T10:00:00.000+0000",
                "description": { "version": 1, "type": "doc", "content": [
                    { "type": "paragraph", "content": [{ "type": "text", "text": "Line one & more" }] },
                    { "type": "paragraph", "content": [{ "type": "text", "text": "Line two" }] }
                ]},
                "comment": { "comments": [{ "author": { "displayName": "Jan Nowak" }, "created": "2026-12-01T09:00:00.000+0000",
                    "body": { "version": 1, "type": "doc", "content": [{ "type": "paragraph", "content": [{ "type": "text", "text": "Done <ok>" }] }] } }] }
            }
        })]
    }

    #[test]
    fn the_csv_quotes_what_needs_it_and_reads_back() {
        let files = files("SL1A2B", &issues()).unwrap();
        assert_eq!(files[0].filename, "jira-export-SL1A2B.csv");
        let mut r = csv::Reader::from_reader(files[0].body.as_bytes());
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(&rows[0][1], "Deliver: invoices, \"monthly\" <auto>");
        assert_eq!(&rows[0][4], "ssot ssot-abc");
        assert_eq!(&rows[0][8], "Line one & more\nLine two");
        assert_eq!(
            &rows[0][9],
            "Jan Nowak (2026-12-01T09:00:00.000+0000): Done <ok>"
        );
    }

    #[test]
    fn the_xml_escapes_text_and_parses() {
        let files = files("SL1A2B", &issues()).unwrap();
        let body = &files[1].body;
        assert!(
            body.contains("<summary>Deliver: invoices, &quot;monthly&quot; &lt;auto&gt;</summary>"),
            "{body}"
        );
        assert!(body.contains("<label>ssot-abc</label>"));
        assert!(body.contains("<comment author=\"Jan Nowak\" created=\"2026-12-01T09:00:00.000+0000\">Done &lt;ok&gt;</comment>"), "{body}");
        let mut reader = quick_xml::Reader::from_str(body);
        let mut items = 0;
        loop {
            match reader.read_event().unwrap() {
                Event::Start(e) if e.name().as_ref() == b"item" => items += 1,
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(items, 1);
    }
}
