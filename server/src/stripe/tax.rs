//! Stripe Tax: whether the account can calculate tax (its Tax settings),
//! read before the creator turns automatic tax on at checkout.

use stripe_misc::{
    tax_settings::RetrieveForMyAccountTaxSettings, TaxProductResourceTaxSettingsDefaultsTaxBehavior as Behavior,
    TaxSettingsStatus,
};

use super::{Stripe, StripeError};

/// Whether prices are taken to include tax or to have it added on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaxBehavior {
    Inclusive,
    Exclusive,
    /// Inclusive or exclusive by the price's currency (Stripe decides).
    ByCurrency,
}

/// What Stripe's Tax settings say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxReadiness {
    /// Stripe has what it needs to calculate tax (a head office address).
    pub active: bool,
    /// The default tax behavior for prices that set none (RepoPass's
    /// prices set none): without one Stripe cannot price a checkout.
    pub default_behavior: Option<TaxBehavior>,
}

impl Stripe {
    pub async fn tax_settings(&self) -> Result<TaxReadiness, StripeError> {
        let settings = RetrieveForMyAccountTaxSettings::new().send(self.client()?).await?;
        Ok(TaxReadiness {
            active: settings.status == TaxSettingsStatus::Active,
            default_behavior: match settings.defaults.tax_behavior {
                Some(Behavior::Inclusive) => Some(TaxBehavior::Inclusive),
                Some(Behavior::Exclusive) => Some(TaxBehavior::Exclusive),
                Some(Behavior::InferredByCurrency) => Some(TaxBehavior::ByCurrency),
                _ => None,
            },
        })
    }
}
