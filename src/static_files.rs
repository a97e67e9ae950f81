//! The browser's files under `/pkg` (wasm, JS, CSS).
//!
//! Pages point at `/assets/{version}/pkg/…`, where `version` is a digest of
//! the files' content: a new build is a new address, so those responses are
//! cached for a year as immutable. Plain `/pkg/…` still answers (revalidated
//! every time) for anything that asks by name.
//!
//! Each file is compressed once, brotli and gzip, into `name.br` and
//! `name.gz` beside it (unless the build already did, e.g. `cargo leptos
//! build --release --precompress`); `ServeDir` then sends whichever the
//! browser accepts. Written by hand around `brotli` and `flate2` because
//! tower-http's `CompressionLayer` would compress the 1.6 MB of wasm again
//! on every download.

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use axum::{body::Body, Router};
use http::{header, HeaderValue, Response};
use sha2::{Digest, Sha256};
use tower_http::{services::ServeDir, set_header::SetResponseHeaderLayer};

/// What gets compressed and goes into the version.
const SERVED: [&str; 3] = ["js", "wasm", "css"];
const FOREVER: &str = "public, max-age=31536000, immutable";

/// The site's browser files, as the pages link to them.
#[derive(Debug, Clone)]
pub struct Assets {
    pkg: PathBuf,
    pkg_dir: String,
    version: String,
}

impl Assets {
    pub fn new(site_root: &Path, pkg_dir: &str) -> Self {
        let pkg = site_root.join(pkg_dir);
        remove_stale(&pkg);
        let version = version(&pkg);
        Assets { pkg, pkg_dir: pkg_dir.to_owned(), version }
    }

    /// What the page's `<script>` and stylesheet paths start with.
    pub fn root(&self) -> String {
        format!("/assets/{}", self.version)
    }

    /// Compresses what needs it, off the async threads; until it is done
    /// the files go out uncompressed.
    pub fn precompress_in_background(&self) {
        let pkg = self.pkg.clone();
        tokio::task::spawn_blocking(move || precompress(&pkg));
    }

    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let files = || ServeDir::new(&self.pkg).precompressed_br().precompressed_gzip();
        let current = Router::new()
            .nest_service(&format!("{}/{}", self.root(), self.pkg_dir), files())
            .layer(cache_control(FOREVER));
        let by_name =
            Router::new().nest_service(&format!("/{}", self.pkg_dir), files()).layer(cache_control("no-cache"));
        current
            .merge(by_name)
            .layer(SetResponseHeaderLayer::if_not_present(header::VARY, HeaderValue::from_static("accept-encoding")))
            .route_layer(axum::middleware::from_fn(no_impossible_names))
    }
}

/// A name no file system holds is simply not found (the file service
/// would answer it with a 500: the operating system refuses the name).
async fn no_impossible_names(request: axum::extract::Request, next: axum::middleware::Next) -> Response<Body> {
    const NAME_MAX: usize = 255;
    if request.uri().path().split('/').any(|segment| segment.len() > NAME_MAX) {
        let mut response = Response::new(Body::from("not found"));
        *response.status_mut() = http::StatusCode::NOT_FOUND;
        return response;
    }
    next.run(request).await
}

/// `value` on files found, nothing on a 404 (which must not be kept for a year).
fn cache_control(
    value: &'static str,
) -> SetResponseHeaderLayer<impl Fn(&Response<Body>) -> Option<HeaderValue> + Clone> {
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, move |response: &Response<Body>| {
        response.status().is_success().then(|| HeaderValue::from_static(value))
    })
}

fn served(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| SERVED.contains(&e))
}

/// A digest of every served file's name and content (sorted: the same
/// files give the same version on every instance). "none" without files.
fn version(pkg: &Path) -> String {
    let Ok(entries) = std::fs::read_dir(pkg) else { return "none".to_owned() };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| served(p)).collect();
    if files.is_empty() {
        return "none".to_owned();
    }
    files.sort();
    let mut digest = Sha256::new();
    for file in files {
        digest.update(file.file_name().map(|n| n.as_encoded_bytes()).unwrap_or_default());
        match std::fs::read(&file) {
            Ok(bytes) => digest.update(&bytes),
            Err(e) => tracing::warn!(file = %file.display(), error = %e, "static file unreadable"),
        }
    }
    hex::encode(&digest.finalize()[..8])
}

/// Writes `name.br` and `name.gz` for every served file that lacks a
/// current one. A read-only site folder is not an error: the files are then
/// sent as they are.
pub fn precompress(pkg: &Path) {
    let Ok(entries) = std::fs::read_dir(pkg) else { return };
    for source in entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| served(p)) {
        for (suffix, compress) in [("br", brotli as fn(&[u8]) -> std::io::Result<Vec<u8>>), ("gz", gzip)] {
            let target = PathBuf::from(format!("{}.{suffix}", source.display()));
            if is_current(&source, &target) {
                continue;
            }
            if let Err(e) = write_compressed(&source, &target, compress) {
                tracing::warn!(file = %target.display(), error = %e, "static file not compressed; sent as it is");
            }
        }
    }
}

/// Compressed copies older than their file (a new build) go before anything
/// is served: they would be sent for the new file.
fn remove_stale(pkg: &Path) {
    let Ok(entries) = std::fs::read_dir(pkg) else { return };
    for source in entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| served(p)) {
        for suffix in ["br", "gz"] {
            let target = PathBuf::from(format!("{}.{suffix}", source.display()));
            if target.exists() && !is_current(&source, &target) {
                if let Err(e) = std::fs::remove_file(&target) {
                    tracing::warn!(file = %target.display(), error = %e, "stale compressed copy could not be removed");
                }
            }
        }
    }
}

fn is_current(source: &Path, target: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    matches!((modified(source), modified(target)), (Some(s), Some(t)) if t >= s)
}

fn write_compressed(
    source: &Path,
    target: &Path,
    compress: fn(&[u8]) -> std::io::Result<Vec<u8>>,
) -> std::io::Result<()> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let bytes = compress(&std::fs::read(source)?)?;
    // Renamed into place: a reader (or another instance doing the same)
    // never sees half a file.
    let temporary = PathBuf::from(format!(
        "{}.{}-{}.tmp",
        target.display(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, target).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

fn brotli(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    // Quality 9: within a few per cent of 11's size, many times faster.
    let params = brotli::enc::BrotliEncoderParams { quality: 9, lgwin: 22, ..Default::default() };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
    Ok(out)
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    encoder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_copies_decode_to_the_original_and_the_version_follows_the_content() {
        let dir = tempfile::tempdir().unwrap();
        let js = dir.path().join("app.js");
        let text = "export function hydrate() { return 42; }\n".repeat(200);
        std::fs::write(&js, &text).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not served").unwrap();
        let before = version(dir.path());

        precompress(dir.path());
        let br = std::fs::read(dir.path().join("app.js.br")).unwrap();
        let mut decoded = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut decoded).unwrap();
        assert_eq!(decoded, text.as_bytes());
        let gz = std::fs::read(dir.path().join("app.js.gz")).unwrap();
        let mut decoded = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut decoded).unwrap();
        assert_eq!(decoded, text);
        assert!(br.len() < text.len() / 10, "brotli made {} of {} bytes", br.len(), text.len());
        assert!(!dir.path().join("notes.txt.br").exists(), "only js, wasm and css are compressed");

        // The compressed copies do not change the version; new content does,
        // and the copies of the old content go before anything is served.
        assert_eq!(version(dir.path()), before);
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&js, "export function hydrate() { return 43; }").unwrap();
        let after = Assets::new(dir.path(), ".");
        assert_ne!(after.version, before);
        assert!(!dir.path().join("app.js.br").exists() && !dir.path().join("app.js.gz").exists());
        assert_eq!(version(&dir.path().join("missing")), "none");
    }
}
