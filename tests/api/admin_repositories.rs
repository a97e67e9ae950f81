//! Adding a repository from the GitHub connection, writing its page, publishing.

use serde_json::Value;

use crate::{
    admin_auth::{browser, sign_in},
    helpers::TestApp,
    scenarios,
};

scenarios!(add_edit_and_publish_a_repository);

async fn call(app: &TestApp, who: &reqwest::Client, endpoint: &str, form: &[(&str, &str)]) -> (u16, Value) {
    crate::admin_auth::call(app, who, &format!("admin/repositories/{endpoint}"), form).await
}

async fn add_edit_and_publish_a_repository(app: TestApp) {
    let admin = browser();
    sign_in(&app, &admin, "sandbox-creator", "/admin").await;

    let (status, reachable) = call(&app, &admin, "reachable", &[]).await;
    assert_eq!(status, 200, "{reachable}");
    let names: Vec<&str> = reachable.as_array().unwrap().iter().map(|r| r["full_name"].as_str().unwrap()).collect();
    assert_eq!(names.last(), Some(&"sandbox-creator/public-demo"), "private repositories come first: {names:?}");
    let pro_kit = reachable.as_array().unwrap().iter().find(|r| r["full_name"] == "sandbox-creator/pro-kit").unwrap();
    assert_eq!(pro_kit["already_added"], false);
    let github_id = pro_kit["github_id"].as_i64().unwrap().to_string();

    let (status, _) = call(&app, &admin, "add", &[("github_id", &github_id)]).await;
    assert!(status == 200 || (300..400).contains(&status), "add answered {status}");
    let (id, slug, state): (i64, String, String) =
        sqlx::query_as("SELECT id, slug, status FROM products").fetch_one(app.pool()).await.unwrap();
    assert_eq!((slug.as_str(), state.as_str()), ("pro-kit", "draft"));
    let id = id.to_string();

    let (status, again) = call(&app, &admin, "add", &[("github_id", &github_id)]).await;
    assert_eq!(status, 400, "{again}");
    assert!(again.to_string().contains("already on RepoPass"), "{again}");
    let (status, foreign) = call(&app, &admin, "add", &[("github_id", "424242999")]).await;
    assert_eq!(status, 400);
    assert!(foreign.to_string().contains("cannot administer"), "{foreign}");

    let (status, bad) = call(
        &app,
        &admin,
        "save",
        &[("id", &id), ("slug", "Bad Slug"), ("title", "Pro Kit"), ("summary", ""), ("description", "")],
    )
    .await;
    assert_eq!(status, 400);
    assert!(bad.to_string().contains("lowercase"), "{bad}");
    let description = "# Pro Kit\n\nEverything **you** need.\n\n<script>alert('x')</script>";
    let (status, saved) = call(
        &app,
        &admin,
        "save",
        &[
            ("id", &id),
            ("slug", "pro-kit"),
            ("title", "The Pro Kit"),
            ("summary", "Starter kit for pros"),
            ("description", description),
        ],
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    let html = saved["description_html"].as_str().unwrap();
    assert!(html.contains("<strong>you</strong>") && !html.contains("<script"), "{html}");

    // Not on the storefront until published.
    assert!(!app.get("/").await.text().await.unwrap().contains("The Pro Kit"));
    let (status, published) = call(&app, &admin, "status", &[("id", &id), ("status", "published")]).await;
    assert_eq!(status, 200);
    assert_eq!(published["status"], "published");
    let store = app.get("/").await.text().await.unwrap();
    assert!(
        store.contains("The Pro Kit") && store.contains("Starter kit for pros"),
        "published repository missing from /"
    );
    assert_eq!(published["moves"], serde_json::json!(["unpublished", "archived"]), "what the editor offers");

    // Archived, it comes back unpublished first (the editor's "Restore"); a
    // status it cannot reach from there is refused, saying what it can.
    let (status, archived) = call(&app, &admin, "status", &[("id", &id), ("status", "archived")]).await;
    assert_eq!((status, archived["moves"].clone()), (200, serde_json::json!(["unpublished"])));
    let (status, refused) = call(&app, &admin, "status", &[("id", &id), ("status", "published")]).await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused.to_string().contains("this product is archived; from there it can become unpublished"),
        "{refused}"
    );
    let (status, again) = call(&app, &admin, "status", &[("id", &id), ("status", "archived")]).await;
    assert_eq!(
        (status, again["status"].as_str()),
        (200, Some("archived")),
        "asking for the status it has changes nothing"
    );
    for to in ["unpublished", "published"] {
        let (status, moved) = call(&app, &admin, "status", &[("id", &id), ("status", to)]).await;
        assert_eq!((status, moved["status"].as_str()), (200, Some(to)), "{moved}");
    }

    // Others cannot touch it.
    let alice = browser();
    sign_in(&app, &alice, "alice", "/admin").await;
    assert_eq!(
        call(
            &app,
            &alice,
            "save",
            &[("id", &id), ("slug", "x-y"), ("title", "Mine"), ("summary", ""), ("description", "")]
        )
        .await
        .0,
        403
    );
    assert_eq!(call(&app, &alice, "status", &[("id", &id), ("status", "archived")]).await.0, 403);
    assert_eq!(call(&app, &browser(), "add", &[("github_id", &github_id)]).await.0, 401);
    let title: String = sqlx::query_scalar("SELECT title FROM products").fetch_one(app.pool()).await.unwrap();
    assert_eq!(title, "The Pro Kit");
}
