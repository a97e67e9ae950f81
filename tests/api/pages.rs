use server::clock;

use crate::{helpers::TestApp, scenarios};

scenarios!(
    storefront_explains_an_empty_store,
    storefront_lists_published_repositories_only,
    unknown_pages_are_404,
    storefront_server_function
);

async fn html(app: &TestApp, path: &str) -> (u16, String) {
    let response = app.get(path).await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn storefront_explains_an_empty_store(app: TestApp) {
    let (status, body) = html(&app, "/").await;
    assert_eq!(status, 200);
    assert!(body.contains("<html lang=\"en\""), "document shell missing");
    assert!(body.contains("<title>RepoPass</title>"), "title missing");
    assert!(body.contains("Nothing on sale yet"), "empty state missing:\n{body}");
    // Hydration: the wasm and its JS loader are referenced, and the CSS.
    assert!(body.contains("/pkg/repopass.js"), "hydration script missing");
    assert!(body.contains("/pkg/repopass.wasm") || body.contains("repopass_bg.wasm"), "wasm missing");
    assert!(body.contains("/pkg/repopass.css"), "stylesheet missing");
}

async fn storefront_lists_published_repositories_only(app: TestApp) {
    let published = insert_repository(&app, 1, "pro-kit", "Pro Kit", "published").await;
    insert_price(&app, published, "monthly", 900, "usd").await;
    insert_price(&app, published, "one_time", 14900, "usd").await;
    let unpriced = insert_repository(&app, 2, "coming", "Coming Soon Repo", "published").await;
    let _ = unpriced;
    insert_repository(&app, 3, "secret-draft", "Secret Draft", "draft").await;

    let (status, body) = html(&app, "/").await;
    assert_eq!(status, 200);
    assert!(body.contains("Pro Kit"));
    assert!(body.contains("from $9.00/month"), "cheapest price missing:\n{body}");
    assert!(body.contains("href=\"/p/pro-kit\""));
    assert!(body.contains("Coming Soon Repo") && body.contains("Coming soon"));
    assert!(!body.contains("Secret Draft"), "a draft must not be listed");
    assert!(!body.contains("Nothing on sale yet"));
}

async fn unknown_pages_are_404(app: TestApp) {
    let (status, body) = html(&app, "/no/such/page").await;
    assert_eq!(status, 404);
    assert!(body.contains("Page not found"));
    assert!(body.contains("Back to the store"));
    // The same document as every other page: its files at their versioned
    // address, the sandbox ribbon, and the policy that lets the buy forms post.
    assert!(body.contains("data-testid=\"sandbox-banner\""), "no sandbox banner on the 404 page:\n{body}");
    assert!(body.contains("href=\"/assets/"), "the 404 page's stylesheet is not at its versioned address:\n{body}");
    let page = app.get("/p/no-such-product").await;
    assert_eq!(page.status(), 404);
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let missing = app.get("/no/such/page").await;
    assert_eq!(
        missing.headers()["content-security-policy"].to_str().unwrap().split("'nonce-").next(),
        policy.split("'nonce-").next(),
        "an unknown address and an unknown product get the same page policy"
    );
    // A file that is not a page or asset is not looked for on disk.
    assert_eq!(app.get("/Cargo-leptos.toml").await.status(), 404);
    assert_eq!(app.get("/favicon.ico").await.status(), 200);
}

async fn storefront_server_function(app: TestApp) {
    let id = insert_repository(&app, 7, "tools", "Tools", "published").await;
    insert_price(&app, id, "yearly", 5000, "eur").await;
    let response = app.client.post(app.url("/api/storefront/products")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let products: serde_json::Value = response.json().await.unwrap();
    assert_eq!(products[0]["slug"], "tools");
    assert_eq!(products[0]["from_price"], "from €50.00/year");
}

/// A product of one repository (acme/`slug`), written straight to the
/// database; its product id.
pub async fn insert_repository(app: &TestApp, github_id: i64, slug: &str, title: &str, status: &str) -> i64 {
    let now = clock::now();
    let repository: i64 = sqlx::query_scalar(
        "INSERT INTO repositories (github_repo_id, owner, name, created_at, updated_at)
         VALUES ($1, 'acme', $2, $3, $3) RETURNING id",
    )
    .bind(github_id)
    .bind(slug)
    .bind(now)
    .fetch_one(app.pool())
    .await
    .unwrap();
    let product: i64 = sqlx::query_scalar(
        "INSERT INTO products (slug, title, summary, status, created_at, updated_at)
         VALUES ($1, $2, 'A private repository', $3, $4, $4) RETURNING id",
    )
    .bind(slug)
    .bind(title)
    .bind(status)
    .bind(now)
    .fetch_one(app.pool())
    .await
    .unwrap();
    sqlx::query("INSERT INTO product_repositories (product_id, repository_id, added_at) VALUES ($1, $2, $3)")
        .bind(product)
        .bind(repository)
        .bind(now)
        .execute(app.pool())
        .await
        .unwrap();
    product
}

pub async fn insert_price(app: &TestApp, product_id: i64, kind: &str, amount: i64, currency: &str) -> i64 {
    let now = clock::now();
    sqlx::query_scalar(
        "INSERT INTO prices (product_id, kind, amount, currency, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(product_id)
    .bind(kind)
    .bind(amount)
    .bind(currency)
    .bind(now)
    .fetch_one(app.pool())
    .await
    .unwrap()
}
