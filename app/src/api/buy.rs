//! The buyer's side: product pages, the GitHub username check, the buy form
//! (`POST /api/checkout`) and the progress shown after paying.

use leptos::prelude::*;

use crate::{
    error::AppError,
    types::{BuyFormDraft, CheckoutProgress, GithubUser, ProductPage},
};

/// A published repository's page (None: unknown or not on sale). Counts a view.
#[server(endpoint = "buy/product")]
pub async fn get_product_page(slug: String) -> Result<Option<ProductPage>, AppError> {
    let state = super::state()?;
    let Some(page) = server::storefront::product(&state.db, &slug).await? else {
        return Ok(None);
    };
    // "Until …, if you buy today" on the clock the period will run on.
    let today = server::dated_clock::now(&state).await?;
    // Counted last: a render that drops this call before it ends (a
    // resource fetched again) does not count a second view.
    state.page_views.record(page.product.id);
    Ok(Some(ssr::page(&state, page, today)))
}

/// Is this a GitHub user who can be invited? (Debounced from the buy form.)
#[server(endpoint = "buy/check-username")]
pub async fn check_github_username(price_id: i64, github_username: String) -> Result<GithubUser, AppError> {
    let state = super::state()?;
    let (_, product) = server::checkout::price_on_sale(&state, server::domain::PriceId(price_id)).await?;
    let account = server::github_accounts::check(&state, product.lookup_owner(), &github_username).await?;
    Ok(GithubUser { login: account.login, name: account.name, avatar_url: account.avatar_url })
}

/// The buy form: records the purchase and opens Stripe Checkout. A plain
/// form post is sent there with a 303; the hydrated form gets the URL and
/// navigates (a full page load: Checkout is another site).
#[server(endpoint = "checkout")]
pub async fn checkout(
    price_id: i64,
    github_username: String,
    email: String,
    // A per-seat price: how many, and "on" when the buyer takes a seat.
    seats: Option<String>,
    take_seat: Option<String>,
) -> Result<String, AppError> {
    let state = super::state()?;
    let session: tower_sessions::Session = leptos_axum::extract().await.map_err(|_| AppError::Internal)?;
    let form =
        server::session_user::BuyForm { price_id, github_username: github_username.clone(), email: email.clone() };
    server::session_user::remember_buy_form(&session, &form).await;
    let proven_github_user_id = ssr::proven_github_account().await;
    let started = server::checkout::start(
        &state,
        &server::checkout::Request {
            price_id: server::domain::PriceId(price_id),
            github_username,
            email,
            proven_github_user_id,
            seats: ssr::seats(seats.as_deref())?,
            take_seat: take_seat.is_some_and(|v| !v.is_empty() && v != "false"),
        },
    )
    .await?;
    ssr::see_other_if_plain_form(&started.checkout_url)?;
    Ok(started.checkout_url)
}

/// What this visitor last sent with the buy form of `slug`'s page (kept
/// across a refusal or a cancelled checkout), if anything.
#[server(endpoint = "buy/form")]
pub async fn saved_buy_form(slug: String) -> Result<Option<BuyFormDraft>, AppError> {
    let state = super::state()?;
    let Ok(session) = leptos_axum::extract::<tower_sessions::Session>().await else { return Ok(None) };
    let Some(form) = server::session_user::buy_form(&session).await else { return Ok(None) };
    // Only on the page whose price it chose.
    let Ok((_, repo)) = server::checkout::price_on_sale(&state, server::domain::PriceId(form.price_id)).await else {
        return Ok(None);
    };
    Ok((repo.slug == slug).then_some(BuyFormDraft {
        price_id: form.price_id,
        github_username: form.github_username,
        email: form.email,
    }))
}

/// Where the purchase behind a Checkout Session stands. If the webhook has
/// not arrived yet, asks Stripe and fulfils here (the same code as the webhook).
#[server(endpoint = "buy/progress")]
pub async fn get_checkout_progress(session_id: String) -> Result<CheckoutProgress, AppError> {
    let state = super::state()?;
    // Boxed: fulfilment's Stripe and GitHub calls make a large future, and
    // the page's resource would carry it on the rendering stack.
    Box::pin(ssr::progress(&state, &session_id)).await
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use crate::{
        error::AppError,
        money::format_price,
        types::{BuyPrice, CheckoutProgress, ProductPage},
    };

    /// The number of seats typed (empty: none given).
    pub fn seats(typed: Option<&str>) -> Result<Option<i64>, AppError> {
        match typed.map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(t) => t.parse::<i64>().map(Some).map_err(|_| {
                AppError::Invalid {
                    field: "seats".into(),
                    message: format!("'{t}' is not a number of seats; enter a whole number"),
                }
                .with_status(http::StatusCode::BAD_REQUEST)
            }),
        }
    }

    /// The GitHub account the visitor signed in with at `/account`, if any.
    pub async fn proven_github_account() -> Option<server::domain::GithubUserId> {
        let session: tower_sessions::Session = leptos_axum::extract().await.ok()?;
        server::session_user::customer(&session).await?.github_user_id.map(server::domain::GithubUserId)
    }

    pub fn access_words(permission: &str, owner_is_org: bool) -> String {
        if !owner_is_org {
            // GitHub ignores the level on personal repositories.
            return "read and write".to_owned();
        }
        match permission {
            "triage" => "read and triage",
            "push" => "read and write",
            "maintain" => "maintain",
            _ => "read",
        }
        .to_owned()
    }

    pub fn page(state: &server::AppState, p: server::storefront::ProductPage, today: i64) -> ProductPage {
        let base = state.config.public_url.as_str().trim_end_matches('/').to_owned();
        let r = p.product;
        // GitHub gives every collaborator of a personal repository write access.
        let all_org = r.repositories.iter().all(|i| i.repository.owner_is_org);
        let prices = p
            .prices
            .into_iter()
            .map(|price| BuyPrice {
                id: price.id.get(),
                interval: price.interval().api().to_owned(),
                amount_text: if price.custom_amount {
                    let minimum = crate::money::format_amount(price.amount, &price.currency);
                    match price.suggested_amount {
                        Some(s) => format!(
                            "Pay what you want: {} suggested, at least {minimum}",
                            crate::money::format_amount(s, &price.currency)
                        ),
                        None => format!("Pay what you want, at least {minimum}"),
                    }
                } else if price.seats().is_some() {
                    format!("{} per seat", format_price(price.amount, &price.currency, price.kind.db()))
                } else {
                    format_price(price.amount, &price.currency, price.kind.db())
                },
                trial_days: price.trial_days,
                access: access_words(&price.permission, all_org),
                pay_what_you_want: price.custom_amount,
                access_days: price.access_days,
                access_until: price.access_days.map(|days| server::clock::day(today + days * 86_400)),
                seats: price.seats().map(|r| (*r.start(), *r.end())),
            })
            .collect();
        ProductPage {
            canonical_url: format!("{base}/p/{}", r.slug),
            image_url: r.cover_image.as_ref().map(|c| format!("{base}/covers/{c}")),
            repositories: r.full_names(),
            own_levels: r
                .repositories
                .iter()
                .filter_map(|i| {
                    let level = i.permission.as_deref()?;
                    Some((i.repository.full_name(), access_words(level, i.repository.owner_is_org)))
                })
                .collect(),
            cover_url: r.cover_image.map(|c| format!("/covers/{c}")),
            description_html: server::markdown::to_safe_html(&r.description_md),
            slug: r.slug,
            title: r.title,
            summary: r.summary,
            prices,
        }
    }

    /// A plain form post (no JavaScript) is answered with a 303 to `url`.
    pub fn see_other_if_plain_form(url: &str) -> Result<(), AppError> {
        let plain_form = leptos::prelude::use_context::<http::request::Parts>()
            .and_then(|parts| {
                parts.headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).map(|v| v.contains("text/html"))
            })
            .unwrap_or(false);
        if !plain_form {
            return Ok(());
        }
        let Ok(location) = http::HeaderValue::from_str(url) else {
            tracing::error!("Stripe returned a checkout URL that is not a valid header value");
            return Err(AppError::Internal);
        };
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.insert_header(http::header::LOCATION, location);
            response.set_status(http::StatusCode::SEE_OTHER);
        }
        Ok(())
    }

    pub async fn progress(state: &server::AppState, session_id: &str) -> Result<CheckoutProgress, AppError> {
        let p = match server::fulfilment::progress(state, session_id).await {
            Err(server::Error::NotFound) => return Err(AppError::NotFound.with_status(http::StatusCode::NOT_FOUND)),
            other => other?,
        };
        let web = state.config.github.web_url.as_str().trim_end_matches('/');
        Ok(CheckoutProgress {
            seats: p.purchase.seats,
            heading: p.heading().to_owned(),
            paid: p.paid(),
            invited: p.invited(),
            active: p.active(),
            settled: p.settled(),
            paid_words: p.paid_words().to_owned(),
            payment_on_its_way: p.payment_on_its_way,
            repositories: p.repositories.iter().map(|r| crate::types::RepoLink::of_grant(web, r)).collect(),
            title: p.product.title,
            slug: p.product.slug,
            github_login: p.purchase.github_login,
            status: p.purchase.status.to_string(),
            invitation_url: p.repositories.iter().find_map(|r| r.invitation_url()).map(str::to_owned),
            problem: p.problem,
            access_until: p.purchase.access_until.map(server::clock::day),
        })
    }
}
