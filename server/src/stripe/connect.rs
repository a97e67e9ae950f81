//! Connecting a Stripe account from a pasted key: which account it opens,
//! which of the permissions RepoPass needs a restricted key lacks, and the
//! webhook endpoint RepoPass creates for itself (with async-stripe-misc).
//!
//! Stripe has no call that lists a restricted key's permissions. It checks
//! them before anything else, though, so a request on an object that does
//! not exist answers 404 when permitted and 403 when not: one such probe per
//! permission tells which are missing without creating or changing anything.

use stripe_client_core::{RequestBuilder, StripeMethod};
use stripe_misc::webhook_endpoint::{
    CreateWebhookEndpoint, CreateWebhookEndpointEnabledEvents, DeleteWebhookEndpoint, ListWebhookEndpoint,
    RetrieveWebhookEndpoint,
};

use super::{Stripe, StripeError};

/// The Stripe account a key opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    /// The name in the Stripe dashboard (or the business name).
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(miniserde::Deserialize)]
struct AccountBody {
    id: String,
    email: Option<String>,
    business_profile: Option<BusinessProfile>,
    settings: Option<AccountSettings>,
}

#[derive(miniserde::Deserialize)]
struct BusinessProfile {
    name: Option<String>,
}

#[derive(miniserde::Deserialize)]
struct AccountSettings {
    dashboard: Option<Dashboard>,
}

#[derive(miniserde::Deserialize)]
struct Dashboard {
    display_name: Option<String>,
}

/// A permission RepoPass needs, in Stripe's words and slug.
#[derive(Debug, Clone, Copy)]
pub struct Permission {
    /// Stripe's slug (`rak_…`), as in its error messages and key links.
    pub slug: &'static str,
    /// As Stripe's dashboard shows it.
    pub label: &'static str,
    /// What RepoPass does with it.
    pub used_for: &'static str,
    method: StripeMethod,
    path: &'static str,
    form: &'static [(&'static str, &'static str)],
}

const fn need(
    slug: &'static str,
    label: &'static str,
    used_for: &'static str,
    method: StripeMethod,
    path: &'static str,
    form: &'static [(&'static str, &'static str)],
) -> Permission {
    Permission { slug, label, used_for, method, path, form }
}

/// Every permission RepoPass needs, each with its harmless probe.
pub const NEEDED: [Permission; 11] = [
    need(
        "rak_product_write",
        "Products: Write",
        "a product per repository",
        StripeMethod::Post,
        "/products/prod_RepoPassProbe",
        &[],
    ),
    need(
        "rak_plan_write",
        "Prices: Write",
        "the prices you set",
        StripeMethod::Post,
        "/prices/price_RepoPassProbe",
        &[],
    ),
    need("rak_customer_read", "Customers: Read", "who paid", StripeMethod::Get, "/customers/cus_RepoPassProbe", &[]),
    need(
        "rak_checkout_session_write",
        "Checkout Sessions: Write",
        "checkout",
        StripeMethod::Post,
        "/checkout/sessions/cs_RepoPassProbe/expire",
        &[],
    ),
    need(
        "rak_subscription_write",
        "Subscriptions: Write",
        "cancelling and resuming subscriptions",
        StripeMethod::Post,
        "/subscriptions/sub_RepoPassProbe",
        &[],
    ),
    need(
        "rak_invoice_read",
        "Invoices: Read",
        "renewals and failed payments",
        StripeMethod::Get,
        "/invoices/in_RepoPassProbe",
        &[],
    ),
    need(
        "rak_charge_read",
        "Charges: Read",
        "payments and disputes",
        StripeMethod::Get,
        "/charges/ch_RepoPassProbe",
        &[],
    ),
    need(
        "rak_refund_write",
        "Refunds: Write",
        "refunds from the admin",
        StripeMethod::Post,
        "/refunds",
        &[("charge", "ch_RepoPassProbe")],
    ),
    need(
        "rak_customer_portal_write",
        "Customer portal: Write",
        "the billing portal link",
        StripeMethod::Post,
        "/billing_portal/sessions",
        &[("customer", "cus_RepoPassProbe")],
    ),
    need(
        "rak_event_read",
        "Events: Read",
        "recovering webhooks that never arrived",
        StripeMethod::Get,
        "/events/evt_RepoPassProbe",
        &[],
    ),
    need(
        "rak_webhook_write",
        "Webhook Endpoints: Write",
        "creating and repairing RepoPass's webhook endpoint",
        StripeMethod::Post,
        "/webhook_endpoints/we_RepoPassProbe",
        &[],
    ),
];

/// Stripe's page that creates a restricted key with these permissions ticked.
pub fn restricted_key_link(permissions: &[Permission], live: bool) -> String {
    let base = if live {
        "https://dashboard.stripe.com/apikeys/create"
    } else {
        "https://dashboard.stripe.com/test/apikeys/create"
    };
    let ticks: Vec<String> = permissions.iter().map(|p| format!("permissions%5B%5D={}", p.slug)).collect();
    format!("{base}?name=RepoPass&{}", ticks.join("&"))
}

/// The webhook endpoint as Stripe has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub enabled_events: Vec<String>,
    pub enabled: bool,
}

/// A new endpoint and its signing secret (Stripe shows it this once).
pub struct CreatedEndpoint {
    pub id: String,
    pub secret: secrecy::SecretString,
}

impl Stripe {
    pub async fn account(&self) -> Result<Account, StripeError> {
        let body: AccountBody =
            RequestBuilder::new(StripeMethod::Get, "/account").customize().send(self.client()?).await?;
        let name = body
            .settings
            .and_then(|s| s.dashboard)
            .and_then(|d| d.display_name)
            .or(body.business_profile.and_then(|b| b.name));
        Ok(Account { id: body.id, name, email: body.email })
    }

    /// The permissions of `NEEDED` this key does not hold (none for a
    /// secret key, which holds them all).
    pub async fn missing_permissions(&self) -> Result<Vec<Permission>, StripeError> {
        let client = self.client()?;
        let probes = NEEDED.iter().map(|p| async move {
            let mut request = RequestBuilder::new(p.method, p.path);
            // Fixed ASCII pairs: no encoding needed.
            if !p.form.is_empty() {
                request.body = Some(p.form.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"));
            }
            match request.customize::<miniserde::json::Value>().send(client).await {
                Ok(_) => Ok(None),
                Err(e) => match StripeError::from(e) {
                    StripeError::Refused { status: 403, .. } => Ok(Some(*p)),
                    // 401 is the key itself; a network failure is no answer.
                    e @ (StripeError::Refused { status: 401, .. } | StripeError::Transport(_)) => Err(e),
                    // 404 "No such …", 400: permitted, the probe's object is not there.
                    _ => Ok(None),
                },
            }
        });
        let answers = futures::future::join_all(probes).await;
        answers.into_iter().filter_map(Result::transpose).collect()
    }

    /// Creates an endpoint for `url` that receives exactly `events`.
    pub async fn create_webhook_endpoint(&self, url: &str, events: &[&str]) -> Result<CreatedEndpoint, StripeError> {
        let enabled: Vec<CreateWebhookEndpointEnabledEvents> =
            events.iter().map(|e| e.parse().unwrap_or_else(|never| match never {})).collect();
        let created = CreateWebhookEndpoint::new(enabled, url)
            .description("RepoPass: payments, renewals, refunds and disputes".to_owned())
            .send(self.client()?)
            .await?;
        let secret = created
            .secret
            .ok_or_else(|| StripeError::Transport("Stripe created the endpoint but sent no signing secret".into()))?;
        Ok(CreatedEndpoint { id: created.id.to_string(), secret: secret.into() })
    }

    /// The endpoint, or `None` when Stripe has no such endpoint any more.
    pub async fn webhook_endpoint(&self, id: &str) -> Result<Option<Endpoint>, StripeError> {
        match RetrieveWebhookEndpoint::new(id).send(self.client()?).await {
            Ok(e) => Ok(Some(endpoint(e))),
            Err(e) => match StripeError::from(e) {
                StripeError::Refused { status: 404, .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    /// Every endpoint of the account (RepoPass's, when its id is unknown).
    pub async fn webhook_endpoints(&self) -> Result<Vec<Endpoint>, StripeError> {
        let list = ListWebhookEndpoint::new().limit(100).send(self.client()?).await?;
        Ok(list.data.into_iter().map(endpoint).collect())
    }

    /// Deletes an endpoint; one already gone counts as deleted.
    pub async fn delete_webhook_endpoint(&self, id: &str) -> Result<(), StripeError> {
        match DeleteWebhookEndpoint::new(id).send(self.client()?).await {
            Ok(_) => Ok(()),
            Err(e) => match StripeError::from(e) {
                StripeError::Refused { status: 404, .. } => Ok(()),
                other => Err(other),
            },
        }
    }
}

fn endpoint(e: stripe_misc::WebhookEndpoint) -> Endpoint {
    Endpoint { id: e.id.to_string(), url: e.url, enabled_events: e.enabled_events, enabled: e.status == "enabled" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_link_ticks_each_permission() {
        let link = restricted_key_link(&NEEDED[..2], false);
        assert_eq!(
            link,
            "https://dashboard.stripe.com/test/apikeys/create?name=RepoPass&permissions%5B%5D=rak_product_write&permissions%5B%5D=rak_plan_write"
        );
    }
}
