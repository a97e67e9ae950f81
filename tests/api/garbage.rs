//! Garbage in, 4xx out: every server function (from Leptos's registry) and
//! every REST operation (from the OpenAPI document) is sent bodies no form
//! or client of ours would send — empty, wrong-typed fields, oversized
//! strings, invalid UTF-8, JSON where a form belongs — by a signed-in admin
//! with a live API key, so that only the input can be at fault. Each answer
//! must be a 4xx in the boundary's own error shape, with words a person can
//! act on and nothing internal, and nothing may change.

use serde_json::Value;

use crate::{
    admin_auth::{browser, sign_in},
    authorization::snapshot,
    checkout::on_sale,
    helpers::TestApp,
    rest_api::{api_key, documented_operations},
    scenarios,
};

scenarios!(every_server_function_and_rest_operation_answers_garbage_with_4xx);

/// Field names the server functions and REST operations take.
const FIELDS: [&str; 16] = [
    "id",
    "price_id",
    "repository_id",
    "github_id",
    "github_user_id",
    "amount",
    "unit_amount",
    "trial_days",
    "interval",
    "currency",
    "email",
    "github_username",
    "session_id",
    "slug",
    "title",
    "reason",
];

/// Words that must never reach a caller.
const INTERNAL: [&str; 7] =
    ["Transport", "error deserializing server function", "panicked", "sqlx", "SQLITE", "stack backtrace", "Internal"];

fn bodies() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let form = |value: &dyn Fn(&str) -> String| {
        FIELDS.iter().map(|f| format!("{f}={}", value(f))).collect::<Vec<_>>().join("&").into_bytes()
    };
    let mut invalid_utf8 = b"id=".to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, 0xfd]);
    invalid_utf8.extend_from_slice(b"&email=");
    invalid_utf8.extend_from_slice(&[0xc3, 0x28]);
    let form_type = "application/x-www-form-urlencoded";
    vec![
        ("an empty body", form_type, Vec::new()),
        ("wrong-typed fields", form_type, form(&|_| "not-a-number%20%7B%7D".to_owned())),
        ("oversized strings", form_type, form(&|_| "x".repeat(12_000))),
        ("invalid UTF-8", form_type, invalid_utf8),
        ("JSON instead of a form", form_type, br#"{"id": 1, "email": ["a"]}"#.to_vec()),
    ]
}

fn json_bodies() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let json_type = "application/json";
    let wrong: Value = FIELDS
        .iter()
        .enumerate()
        .map(|(i, f)| (f.to_string(), if i % 2 == 0 { Value::from("not-a-number") } else { Value::from(vec![1, 2]) }))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let long: Value = FIELDS
        .iter()
        .map(|f| (f.to_string(), Value::from("x".repeat(12_000))))
        .collect::<serde_json::Map<_, _>>()
        .into();
    vec![
        ("an empty body", json_type, Vec::new()),
        ("not JSON", json_type, b"owner=sandbox-org&name=x".to_vec()),
        ("wrong-typed fields", json_type, wrong.to_string().into_bytes()),
        ("oversized strings", json_type, long.to_string().into_bytes()),
        ("invalid UTF-8", json_type, vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}']),
        ("a JSON array", json_type, b"[1, 2, 3]".to_vec()),
    ]
}

/// A 4xx whose body a person can read and that says nothing internal.
fn check(what: &str, status: u16, body: &str) {
    assert!((400..500).contains(&status), "{what}: answered {status}: {body}");
    assert!(!body.trim().is_empty(), "{what}: {status} without a message");
    for word in INTERNAL {
        assert!(!body.contains(word), "{what}: {status} says something internal ({word}): {body}");
    }
}

async fn every_server_function_and_rest_operation_answers_garbage_with_4xx(app: TestApp) {
    on_sale(&app).await;
    let admin = browser();
    sign_in(&app, &admin, "sandbox-creator", "/admin").await;
    let key = api_key(&app).await;
    let before = snapshot(&app).await;

    let mut server_fns: Vec<&str> = leptos::server_fn::axum::server_fn_paths().map(|(p, _)| p).collect();
    server_fns.sort();
    assert!(server_fns.len() > 20, "the registry: {server_fns:?}");
    for path in &server_fns {
        for (name, content_type, body) in bodies() {
            let response =
                admin.post(app.url(path)).header("content-type", content_type).body(body).send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            if (200..300).contains(&status) {
                // Fields of text take any text (a product page for an odd
                // slug is "none"); an unreadable body is accepted only by a
                // function that takes no fields and ignores it.
                if !matches!(name, "wrong-typed fields" | "oversized strings") {
                    let empty = admin.post(app.url(path)).header("content-type", content_type).send().await.unwrap();
                    assert!(
                        empty.status().is_success(),
                        "{path} with {name}: accepted garbage ({status}: {text}) but refuses an empty body"
                    );
                }
                continue;
            }
            check(&format!("{path} with {name}"), status, &text);
            if status == 400 {
                let error: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|_| panic!("{path} with {name}: not the forms' error shape: {text}"));
                let message = error["Invalid"]["message"]
                    .as_str()
                    .or(error["Fields"][0][1].as_str())
                    .unwrap_or_else(|| panic!("{path} with {name}: no message: {text}"));
                assert!(message.len() > 10, "{path} with {name}: {message}");
            }
        }
    }

    let ops = documented_operations(&app).await;
    assert!(ops.len() >= 8, "{ops:?}");
    for (method, template) in &ops {
        // A garbage id in the path, then garbage bodies on an id that does not exist.
        let mut paths = vec![template.replace("{id}", "not-an-id")];
        if template.contains("{id}") {
            paths.push(template.replace("{id}", "999999"));
        }
        for path in paths {
            for (name, content_type, body) in json_bodies() {
                let url = app.url(&format!("/api/v1{path}"));
                let response = app
                    .client
                    .request(method.parse().unwrap(), url)
                    .bearer_auth(&key)
                    .header("content-type", content_type)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let text = response.text().await.unwrap();
                if method == "GET" && !path.contains("not-an-id") && !path.contains("999999") {
                    // A list ignores a body; it must still not fail.
                    assert!(status < 500, "{method} {path} with {name}: {status}: {text}");
                    continue;
                }
                check(&format!("{method} {path} with {name}"), status, &text);
                let error: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|_| panic!("{method} {path} with {name}: not the API's error shape: {text}"));
                assert!(
                    error["error"]["message"].as_str().is_some_and(|m| m.len() > 5),
                    "{method} {path} with {name}: {text}"
                );
            }
        }
    }

    assert_eq!(snapshot(&app).await, before, "garbage changed something");
}
