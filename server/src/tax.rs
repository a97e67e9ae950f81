//! Tax at checkout: the creator's switch for Stripe Tax, turned on only
//! when Stripe can calculate it (RepoPass's prices leave the tax behavior
//! to the account's default, so one must be set).

use crate::{
    preferences::{self, Preference},
    stripe::{TaxBehavior, TaxReadiness},
    AppState, Error, Result,
};

/// What the settings page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxStatus {
    pub on: bool,
    /// Stripe's default, in words ("tax is added to the price"), when known.
    pub behavior: Option<&'static str>,
}

fn words(behavior: TaxBehavior) -> &'static str {
    match behavior {
        TaxBehavior::Exclusive => "tax is added to your prices at checkout",
        TaxBehavior::Inclusive => "your prices include tax",
        TaxBehavior::ByCurrency => "prices include tax or not by their currency (Stripe's rule)",
    }
}

/// Why Stripe cannot calculate tax yet, and what to do; None when it can.
fn not_ready(readiness: &TaxReadiness) -> Option<&'static str> {
    if !readiness.active {
        return Some(
            "Stripe Tax is not active on this Stripe account: add your business address in Stripe's dashboard (Settings → Tax), then turn it on here",
        );
    }
    if readiness.default_behavior.is_none() {
        return Some(
            "choose in Stripe's dashboard (Settings → Tax → Default tax behavior) whether your prices include tax, then turn it on here",
        );
    }
    None
}

pub async fn status(state: &AppState) -> Result<TaxStatus> {
    let on = preferences::is_on(&state.db, Preference::StripeTax).await?;
    // Stripe is asked only when tax is on: the page must load without it.
    let behavior = match on {
        true => state.stripe.tax_settings().await.ok().and_then(|r| r.default_behavior).map(words),
        false => None,
    };
    Ok(TaxStatus { on, behavior })
}

/// Turns Stripe Tax on (after checking Stripe can calculate it) or off.
pub async fn set(state: &AppState, on: bool) -> Result<TaxStatus> {
    if on {
        let readiness = state.stripe.tax_settings().await?;
        if let Some(why) = not_ready(&readiness) {
            return Err(Error::invalid("stripe_tax", why));
        }
    }
    preferences::set(&state.db, Preference::StripeTax, on).await?;
    tracing::info!(on, "Stripe Tax at checkout changed");
    status(state).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tax_needs_an_active_account_and_a_default_behavior() {
        let ready = TaxReadiness { active: true, default_behavior: Some(TaxBehavior::Exclusive) };
        assert_eq!(not_ready(&ready), None);
        assert!(not_ready(&TaxReadiness { active: false, ..ready.clone() }).unwrap().contains("business address"));
        assert!(not_ready(&TaxReadiness { default_behavior: None, ..ready }).unwrap().contains("Default tax behavior"));
    }
}
