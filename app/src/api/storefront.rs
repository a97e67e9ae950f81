use leptos::prelude::*;

use crate::{error::AppError, types::ProductCard};

/// The published repositories, cheapest price first shown.
#[server(endpoint = "storefront/products")]
pub async fn list_products() -> Result<Vec<ProductCard>, AppError> {
    let state = super::state()?;
    let listings = server::storefront::published(&state.db).await?;
    Ok(listings.into_iter().map(ssr::card).collect())
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::{
        money::format_amount,
        types::{PriceKind, ProductCard},
    };

    pub fn card(l: server::storefront::Listing) -> ProductCard {
        let from_price = match (l.from_amount, l.currency, l.from_kind.as_deref().and_then(PriceKind::parse)) {
            (Some(amount), Some(currency), Some(kind)) => {
                Some(format!("from {}{}", format_amount(amount, &currency), kind.per()))
            }
            _ => None,
        };
        ProductCard {
            slug: l.slug,
            title: l.title,
            summary: l.summary,
            cover_url: l.cover_image.map(|file| format!("/covers/{file}")),
            from_price,
        }
    }
}
