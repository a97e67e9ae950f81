//! The pages every anonymous visitor sees alike — the storefront, the
//! product pages and the 404 page of any unknown address — rendered once
//! and then served from memory, the way a static file would be, until
//! something they show changes
//! (`server::page_version`: the database says so, from any instance) or a
//! minute has passed (the dates on a product page follow the day).
//!
//! What stays per response: the Content-Security-Policy nonce (a page is
//! kept with its nonce cut out and gets a fresh one on every view, in the
//! header and on each script) and the page view, counted in memory as a
//! rendered page counts it. A page served from memory says so with an
//! `Age` header, as an HTTP cache would. A visitor who sends a cookie has a session
//! (their buy form, their sign-in): their pages are rendered for them.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use server::{domain::ProductId, AppState};

/// Dates on a product page ("until 3 Dec 2027, if you buy today") move
/// with the day: nothing is kept longer than this.
const MAX_AGE: Duration = Duration::from_secs(60);
/// Pages kept at most (one per published product and query string); past
/// it, everything kept is dropped and kept again as it is viewed.
const MAX_PAGES: usize = 512;

#[derive(Clone)]
pub struct PageCache {
    state: AppState,
    pages: Arc<RwLock<HashMap<String, Arc<Kept>>>>,
}

/// A rendered page with its nonce cut out: `body` and each header value
/// are the pieces between the nonce's occurrences.
struct Kept {
    generation: u64,
    status: StatusCode,
    at: Instant,
    headers: Vec<(HeaderName, Vec<Bytes>)>,
    body: Vec<Bytes>,
    product: Option<ProductId>,
}

impl PageCache {
    pub fn new(state: AppState) -> Self {
        PageCache { state, pages: Default::default() }
    }

    fn kept(&self, key: &str, generation: u64) -> Option<Arc<Kept>> {
        let pages = self.pages.read().unwrap_or_else(|e| e.into_inner());
        pages.get(key).filter(|k| k.generation == generation && k.at.elapsed() < MAX_AGE).cloned()
    }

    fn keep(&self, key: String, kept: Kept) {
        let mut pages = self.pages.write().unwrap_or_else(|e| e.into_inner());
        if pages.len() >= MAX_PAGES && !pages.contains_key(&key) {
            pages.clear();
        }
        pages.insert(key, Arc::new(kept));
    }
}

/// Where the 404 page is kept: no address starts with this.
const NOT_FOUND_KEY: &str = "404";

/// The pages kept.
#[derive(Debug, PartialEq)]
enum Page {
    Storefront,
    Product {
        slug: String,
    },
    /// The same for every address nothing answers (scanners ask for many).
    NotFound,
}

/// Which page `path` is, if it is one kept.
fn kept_page(path: &str) -> Option<Page> {
    if path == "/" {
        return Some(Page::Storefront);
    }
    let slug = path.strip_prefix("/p/")?;
    if slug.is_empty() || slug.contains('/') {
        return None;
    }
    let slug = percent_encoding::percent_decode_str(slug).decode_utf8().ok()?;
    Some(Page::Product { slug: slug.into_owned() })
}

/// The route layer of the pages.
pub async fn serve(State(cache): State<PageCache>, request: Request, next: Next) -> Response {
    let page = kept_page(request.uri().path());
    serve_page(cache, page, request, next).await
}

/// The layer of the 404 page (the router's fallback).
pub async fn serve_not_found(State(cache): State<PageCache>, request: Request, next: Next) -> Response {
    serve_page(cache, Some(Page::NotFound), request, next).await
}

async fn serve_page(cache: PageCache, page: Option<Page>, request: Request, next: Next) -> Response {
    let anonymous = request.method() == Method::GET && !request.headers().contains_key(header::COOKIE);
    let page = page.filter(|_| anonymous);
    let (Some(page), Some(generation)) = (page, cache.state.pages.current()) else {
        return next.run(request).await;
    };
    let (key, status) = match page {
        Page::NotFound => (NOT_FOUND_KEY.to_owned(), StatusCode::NOT_FOUND),
        Page::Storefront | Page::Product { .. } => {
            (request.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned(), StatusCode::OK)
        }
    };
    if let Some(kept) = cache.kept(&key, generation) {
        if let Some(product) = kept.product {
            cache.state.page_views.record(product);
        }
        return kept.response(&leptos::nonce::Nonce::new().to_string());
    }
    let response = next.run(request).await;
    if response.status() != status || response.headers().contains_key(header::SET_COOKIE) {
        return response;
    }
    let Some(nonce) = nonce_of(response.headers()) else { return response };
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "a page failed while it was sent");
            return problem();
        }
    };
    // The product the page views of a kept page count for.
    let product = match page {
        Page::Storefront | Page::NotFound => None,
        Page::Product { slug } => match server::storefront::product_id(&cache.state.db, &slug).await {
            Ok(Some(id)) => Some(id),
            // Unpublished while it rendered: served this once, not kept.
            Ok(None) => return Response::from_parts(parts, Body::from(body)),
            Err(e) => {
                tracing::warn!(error = %e, "product not looked up; page not kept");
                return Response::from_parts(parts, Body::from(body));
            }
        },
    };
    let kept = Kept {
        generation,
        status,
        at: Instant::now(),
        headers: parts.headers.iter().map(|(n, v)| (n.clone(), split(v.as_bytes(), nonce.as_bytes()))).collect(),
        body: split(&body, nonce.as_bytes()),
        product,
    };
    cache.keep(key, kept);
    Response::from_parts(parts, Body::from(body))
}

/// Any request that may have changed what pages show moves this instance's
/// generation at once (the database tells the other instances). Buyers'
/// and customers' requests and webhooks change nothing a page shows (the
/// worker's changes are heard from the database).
pub async fn after_changes(State(cache): State<PageCache>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let may_change = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && !path.starts_with("/api/webhooks/")
        && !path.starts_with("/api/buy/")
        && !path.starts_with("/api/account/")
        && path != "/api/checkout";
    let response = next.run(request).await;
    if may_change {
        cache.state.pages.changed();
    }
    response
}

impl Kept {
    fn response(&self, nonce: &str) -> Response {
        let mut headers = HeaderMap::with_capacity(self.headers.len());
        for (name, pieces) in &self.headers {
            match HeaderValue::from_bytes(&join(pieces, nonce)) {
                Ok(v) => {
                    headers.append(name.clone(), v);
                }
                Err(_) => return problem(),
            }
        }
        // As an HTTP cache says it served a stored response (RFC 9111).
        headers.insert(header::AGE, HeaderValue::from(self.at.elapsed().as_secs()));
        metrics::counter!("repopass_pages_served_from_memory_total").increment(1);
        let mut response = Response::new(Body::from(join(&self.body, nonce)));
        *response.headers_mut() = headers;
        *response.status_mut() = self.status;
        response
    }
}

/// The nonce Leptos gave this render, as the page's policy names it.
fn nonce_of(headers: &HeaderMap) -> Option<String> {
    let policy = headers.get(header::CONTENT_SECURITY_POLICY)?.to_str().ok()?;
    let start = policy.find("'nonce-")? + "'nonce-".len();
    let len = policy[start..].find('\'')?;
    Some(policy[start..start + len].to_owned()).filter(|n| n.len() >= 16)
}

fn split(bytes: &[u8], nonce: &[u8]) -> Vec<Bytes> {
    let mut pieces = Vec::new();
    let mut rest = bytes;
    while let Some(at) = memchr::memmem::find(rest, nonce) {
        pieces.push(Bytes::copy_from_slice(&rest[..at]));
        rest = &rest[at + nonce.len()..];
    }
    pieces.push(Bytes::copy_from_slice(rest));
    pieces
}

fn join(pieces: &[Bytes], nonce: &str) -> Vec<u8> {
    let len = pieces.iter().map(Bytes::len).sum::<usize>() + nonce.len() * pieces.len().saturating_sub(1);
    let mut out = Vec::with_capacity(len);
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(nonce.as_bytes());
        }
        out.extend_from_slice(piece);
    }
    out
}

fn problem() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "1")], "This page could not be sent. Please reload it.")
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_kept_gets_each_views_nonce_wherever_the_render_had_its_own() {
        let page = b"<script nonce=\"abcdefghijklmnopqrstuv\">x</script><p>abcdefghijklmnopqrstuv</p>";
        let pieces = split(page, b"abcdefghijklmnopqrstuv");
        assert_eq!(pieces.len(), 3);
        assert_eq!(join(&pieces, "NEWNONCE"), b"<script nonce=\"NEWNONCE\">x</script><p>NEWNONCE</p>");
        assert_eq!(join(&split(b"no nonce here", b"abcdefghijklmnopqrstuv"), "N"), b"no nonce here");
    }

    #[test]
    fn the_nonce_is_read_from_the_pages_policy() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self' 'nonce-QUJDREVGR0hJSktMTU5PUA' 'wasm-unsafe-eval'",
            ),
        );
        assert_eq!(nonce_of(&headers).as_deref(), Some("QUJDREVGR0hJSktMTU5PUA"));
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("script-src 'self'"));
        assert_eq!(nonce_of(&headers), None);
    }

    #[test]
    fn only_the_storefront_and_product_pages_are_kept() {
        let product = |slug: &str| Some(Page::Product { slug: slug.to_owned() });
        assert_eq!(kept_page("/"), Some(Page::Storefront));
        assert_eq!(kept_page("/p/pro-kit"), product("pro-kit"));
        assert_eq!(kept_page("/p/caf%C3%A9"), product("café"));
        assert_eq!(kept_page("/p/"), None);
        assert_eq!(kept_page("/p/a/b"), None);
        assert_eq!(kept_page("/admin"), None);
        assert_eq!(kept_page("/account"), None);
    }
}
