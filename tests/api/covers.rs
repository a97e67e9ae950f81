//! Cover images: uploaded by the creator through a plain form, checked by
//! their bytes, stored under REPOPASS_DATA_DIR, served with long caching.

use reqwest::multipart::{Form, Part};

use crate::{admin_auth::call, admin_prices::creator_with_repository, helpers::TestApp, scenarios};

scenarios!(a_creator_uploads_a_cover, bad_covers_are_refused_with_a_reason);

/// A real 1×1 PNG.
pub const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90\x77\x53\xde\x00\x00\x00\x0c\x49\x44\x41\x54\x78\x9c\x63\xf0\x77\x7b\x0a\x00\x02\x62\x01\x7b\xc1\x26\x7f\x71\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";

async fn upload(app: &TestApp, who: &reqwest::Client, repo: &str, bytes: Vec<u8>, file_name: &str) -> (u16, String) {
    let form = Form::new().part("cover", Part::bytes(bytes).file_name(file_name.to_owned()));
    let response =
        who.post(app.url(&format!("/admin/repositories/{repo}/cover"))).multipart(form).send().await.unwrap();
    let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
    (response.status().as_u16(), location)
}

async fn cover(app: &TestApp) -> Option<String> {
    sqlx::query_scalar("SELECT cover_image FROM products").fetch_one(app.pool()).await.unwrap()
}

async fn a_creator_uploads_a_cover(app: TestApp) {
    let (admin, repo) = creator_with_repository(&app, "sandbox-creator/pro-kit").await;
    let (status, location) = upload(&app, &admin, &repo, PNG.to_vec(), "cover.png").await;
    assert_eq!(status, 303);
    assert_eq!(location, format!("/admin/repositories/{repo}?cover=saved#cover"));
    let name = cover(&app).await.expect("the cover is recorded");
    assert!(name.ends_with(".png"));
    assert!(app.state.config.data_dir.join("covers").join(&name).is_file(), "stored under REPOPASS_DATA_DIR/covers");

    let served = app.get(&format!("/covers/{name}")).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);

    let (_, page) = call(&app, &admin, "admin/repositories/get", &[("id", &repo)]).await;
    assert_eq!(page["cover_url"], format!("/covers/{name}"));
    // Buyers see it on the storefront once published.
    call(&app, &admin, "admin/repositories/status", &[("id", &repo), ("status", "published")]).await;
    assert!(app.get("/").await.text().await.unwrap().contains(&format!("/covers/{name}")));

    let (status, _) = call(&app, &admin, "admin/repositories/remove-cover", &[("id", &repo)]).await;
    assert_eq!(status, 200);
    assert_eq!(cover(&app).await, None);
    for probe in ["/covers/../repopass.db", "/covers/%2e%2e/repopass.db", "/covers/nothing.png"] {
        assert_eq!(app.get(probe).await.status(), 404, "{probe}");
    }
}

async fn bad_covers_are_refused_with_a_reason(app: TestApp) {
    let (admin, repo) = creator_with_repository(&app, "sandbox-creator/pro-kit").await;
    upload(&app, &admin, &repo, PNG.to_vec(), "cover.png").await;
    let kept = cover(&app).await;

    let mut big = PNG.to_vec();
    big.resize(2 * 1024 * 1024 + 10, 0);
    let mut huge = PNG.to_vec();
    huge.resize(6 * 1024 * 1024, 0);
    let cases: [(Vec<u8>, &str, &str); 5] = [
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(), "x.gif", "image/gif"),
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec(),
            "x.png",
            "upload a PNG, JPEG or WebP",
        ),
        (Vec::new(), "empty.png", "choose an image file"),
        (big, "big.png", "the limit is 2 MB"),
        (huge, "huge.png", "larger than 2 MB"),
    ];
    for (bytes, file_name, expected) in cases {
        let (status, location) = upload(&app, &admin, &repo, bytes, file_name).await;
        assert_eq!(status, 303, "{file_name}");
        let url = url::Url::parse(&format!("http://x{location}")).unwrap();
        let message =
            url.query_pairs().find(|(k, _)| k == "cover_error").map(|(_, v)| v.into_owned()).unwrap_or_default();
        assert!(message.contains(expected), "{file_name}: '{message}' should say '{expected}'");
        assert_eq!(cover(&app).await, kept, "{file_name}: a refused upload keeps the old cover");
    }
}
