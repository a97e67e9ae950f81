//! Products and prices: one Stripe Product per repository, one Stripe Price
//! per price (immutable: a new amount is a new Price).

use std::collections::HashMap;

use stripe_product::{
    price::{CreatePrice, CreatePriceRecurring, CreatePriceRecurringInterval, CustomUnitAmount, UpdatePrice},
    product::{CreateProduct, UpdateProduct},
};

use super::{Stripe, StripeError};
use crate::domain::Interval;

/// A Price to create on a Product.
#[derive(Debug, Clone)]
pub struct NewPrice<'a> {
    pub product: &'a str,
    pub interval: Interval,
    /// The price (pay what you want: ignored, `custom` says the range).
    pub amount: i64,
    /// Pay what you want (one-time prices only).
    pub custom: Option<CustomAmount>,
    /// Lowercase ISO code.
    pub currency: &'a str,
    pub nickname: String,
    pub metadata: HashMap<String, String>,
}

/// A price whose buyer names the amount: at least `minimum`, starting at `preset`.
#[derive(Debug, Clone, Copy)]
pub struct CustomAmount {
    pub minimum: i64,
    pub preset: Option<i64>,
}

impl Stripe {
    /// Creates a Product; its id.
    pub async fn create_product(
        &self,
        name: &str,
        description: &str,
        metadata: HashMap<String, String>,
    ) -> Result<String, StripeError> {
        let product = CreateProduct::new(name.to_owned())
            .description(description.to_owned())
            .metadata(metadata)
            .send(self.client()?)
            .await?;
        Ok(product.id.as_str().to_owned())
    }

    /// Renames a Product (what buyers see at checkout).
    pub async fn rename_product(&self, id: &str, name: &str) -> Result<(), StripeError> {
        UpdateProduct::new(id).name(name.to_owned()).send(self.client()?).await?;
        Ok(())
    }

    pub async fn archive_product(&self, id: &str) -> Result<(), StripeError> {
        UpdateProduct::new(id).active(false).send(self.client()?).await?;
        Ok(())
    }

    /// Creates a Price; its id.
    pub async fn create_price(&self, new: NewPrice<'_>) -> Result<String, StripeError> {
        let currency: stripe_types::Currency = new.currency.parse().unwrap_or(stripe_types::Currency::USD);
        let mut create =
            CreatePrice::new(currency).product(new.product.to_owned()).nickname(new.nickname).metadata(new.metadata);
        create = match new.custom {
            None => create.unit_amount(new.amount),
            Some(c) => create.custom_unit_amount(CustomUnitAmount {
                enabled: true,
                minimum: Some(c.minimum),
                maximum: None,
                preset: c.preset,
            }),
        };
        create = match new.interval {
            Interval::OneTime => create,
            Interval::Month => create.recurring(CreatePriceRecurring::new(CreatePriceRecurringInterval::Month)),
            Interval::Year => create.recurring(CreatePriceRecurring::new(CreatePriceRecurringInterval::Year)),
        };
        Ok(create.send(self.client()?).await?.id.as_str().to_owned())
    }

    /// Archives a Price: no new checkouts; its subscriptions go on.
    pub async fn archive_price(&self, id: &str) -> Result<(), StripeError> {
        UpdatePrice::new(id).active(false).send(self.client()?).await?;
        Ok(())
    }
}
