//! The browser's files: compressed (brotli, gzip), at an address that names
//! their content and cached for a year there, revalidated by plain name.

use std::time::{Duration, Instant};

use crate::helpers::{spawn_app_with_site, Backend};

#[tokio::test]
async fn browser_files_go_out_compressed_and_cached_by_content() {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let js = "export default async function init() { /* the loader */ }\n".repeat(400);
    let wasm: Vec<u8> = b"\0asm\x01\0\0\0".iter().copied().chain((0..60_000u32).map(|i| (i % 7) as u8)).collect();
    std::fs::write(pkg.join("repopass.js"), &js).unwrap();
    std::fs::write(pkg.join("repopass.wasm"), &wasm).unwrap();
    std::fs::write(pkg.join("repopass.css"), "body { color: black; }\n".repeat(300)).unwrap();
    let app = spawn_app_with_site(Backend::Sqlite, site.path()).await.unwrap();

    // The page names the files by version.
    let page = app.get("/").await.text().await.unwrap();
    let start = page.find("/assets/").expect("the page links /assets/{version}/…");
    let root = &page[start..start + "/assets/".len() + 16];
    assert!(page.contains(&format!("{root}/pkg/repopass.css")), "stylesheet by version:\n{page}");
    assert!(page.contains(&format!("{root}/pkg/repopass.js")), "loader by version");

    // Compressed in the background at start-up: brotli once it is ready.
    let wasm_url = app.url(&format!("{root}/pkg/repopass.wasm"));
    let deadline = Instant::now() + Duration::from_secs(20);
    let response = loop {
        let response = app.client.get(&wasm_url).header("accept-encoding", "br, gzip").send().await.unwrap();
        if response.headers().get("content-encoding").is_some_and(|v| v == "br") || Instant::now() > deadline {
            break response;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "br", "wasm not sent with brotli");
    assert_eq!(response.headers()["content-type"], "application/wasm");
    assert_eq!(response.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert!(response.headers()["vary"].to_str().unwrap().to_lowercase().contains("accept-encoding"));
    let body = response.bytes().await.unwrap();
    assert!(body.len() < wasm.len() / 4, "{} bytes for {}", body.len(), wasm.len());
    let mut decoded = Vec::new();
    brotli::BrotliDecompress(&mut &body[..], &mut decoded).unwrap();
    assert_eq!(decoded, wasm);

    // gzip for a browser without brotli; the file itself for one that takes neither.
    let deadline = Instant::now() + Duration::from_secs(20);
    let gz = loop {
        let r = app
            .client
            .get(app.url(&format!("{root}/pkg/repopass.js")))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        if r.headers().get("content-encoding").is_some_and(|v| v == "gzip") || Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz.bytes().await.unwrap()[..]), &mut text)
        .unwrap();
    assert_eq!(text, js);
    let plain = app.client.get(app.url(&format!("{root}/pkg/repopass.js"))).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.text().await.unwrap(), js);

    // By plain name: served, but checked again each time.
    let by_name = app.get("/pkg/repopass.css").await;
    assert_eq!(by_name.status(), 200);
    assert_eq!(by_name.headers()["cache-control"], "no-cache");
    // Another version's address is not found, and not cached for a year.
    // A name longer than any file system allows is not found either (not a 500).
    let long = app.get(&format!("{root}/pkg/{}.js", "x".repeat(3000))).await;
    assert_eq!(long.status(), 404);
    let stale = app.get("/assets/0000000000000000/pkg/repopass.css").await;
    assert_eq!(stale.status(), 404);
    assert!(stale.headers().get("cache-control").is_none_or(|v| !v.to_str().unwrap().contains("immutable")));
}
