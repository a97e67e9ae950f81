//! An event in words: the message a Slack or Discord channel gets (an
//! endpoint of that format), and the line the creator's notices open with.
//! Read from the event as stored, so a chat message says what the signed
//! JSON says.

use serde_json::{json, Value};

use crate::domain::{EndpointFormat, WebhookEventType};

/// One sentence for `event` (the body RepoPass sends, parsed).
pub fn sentence(event: &Value) -> String {
    use WebhookEventType as E;
    let Some(kind) = event["type"].as_str().and_then(|t| t.parse::<WebhookEventType>().ok()) else {
        return "RepoPass sent an event this version does not describe.".to_owned();
    };
    let data = &event["data"];
    let p = &data["purchase"];
    let who = p["customer"]["github_login"].as_str().map(|l| format!("@{l}")).unwrap_or_else(|| "a customer".into());
    let product = p["product"]["title"].as_str().or(data["product"]["title"].as_str()).unwrap_or("a product");
    let amount = match (p["amount"].as_i64(), p["currency"].as_str()) {
        (Some(amount), Some(currency)) => money::format_amount(amount, currency),
        _ => String::new(),
    };
    match kind {
        E::PurchaseCreated => format!("{who} started a checkout for {product}."),
        E::PurchasePaid => format!("New sale: {who} bought {product} for {amount}."),
        E::PurchaseInvited => match data["repository"]["full_name"].as_str() {
            Some(repo) => format!("{who} was invited to {repo} ({product})."),
            None => format!("{who} was invited to {product}."),
        },
        E::PurchaseActive => format!("{who} has access to {product}."),
        E::PurchaseRevoked => match p["status_reason_code"].as_str() {
            Some(reason) => format!("{who} lost access to {product} ({}).", reason.replace('_', " ")),
            None => format!("{who} lost access to {product}."),
        },
        E::PurchaseRestored => format!("{who}'s access to {product} was restored."),
        E::PurchaseRefunded => format!("{who}'s payment for {product} was refunded."),
        E::PurchaseDisputed => format!("{who} disputed the payment for {product}."),
        E::SubscriptionRenewed => format!("{who} renewed {product} ({amount})."),
        E::SubscriptionCancelled => match p["cancel_at"].as_str().and_then(|t| t.get(..10)) {
            Some(day) => format!("{who} cancelled {product}; access ends on {day}."),
            None => format!("{who} cancelled {product}."),
        },
        E::SubscriptionPaymentFailed => {
            format!("{who}'s renewal payment for {product} failed; access lasts through the grace period.")
        }
        E::SeatAdded => format!("{who} got a seat of {product}."),
        E::SeatRemoved => format!("{who}'s seat of {product} was taken back."),
        E::ProductPublished => format!("{product} is on sale."),
        E::ProductUnpublished => format!("{product} was taken off sale."),
        E::AlertOpened => format!(
            "RepoPass alert: {}. What to do: {}",
            data["alert"]["what"].as_str().unwrap_or("something needs your attention."),
            data["alert"]["todo"].as_str().unwrap_or("open RepoPass's settings.")
        ),
        E::AlertResolved => {
            format!("Resolved: {}.", data["alert"]["title"].as_str().unwrap_or("an alert"))
        }
        E::Test => "A test message from RepoPass: this channel will hear of your sales.".to_owned(),
    }
}

/// The body for a chat endpoint: Slack's `text` (its three special
/// characters escaped), Discord's `content` with mentions turned off (a
/// product title must not ping a channel).
pub fn body(format: EndpointFormat, event: &Value) -> String {
    let line = sentence(event);
    match format {
        EndpointFormat::Slack => {
            json!({"text": line.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")}).to_string()
        }
        EndpointFormat::Discord => json!({"content": line, "allowed_mentions": {"parse": []}}).to_string(),
        EndpointFormat::Standard => event.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paid() -> Value {
        json!({"type": "purchase.paid", "data": {"purchase": {
            "amount": 4900, "currency": "usd", "customer": {"github_login": "carol"},
            "product": {"title": "Tools <&> Co"}
        }}})
    }

    #[test]
    fn a_sale_reads_as_a_sentence_in_each_chat() {
        assert_eq!(sentence(&paid()), "New sale: @carol bought Tools <&> Co for $49.00.");
        let slack: Value = serde_json::from_str(&body(EndpointFormat::Slack, &paid())).unwrap();
        assert_eq!(slack["text"], "New sale: @carol bought Tools &lt;&amp;&gt; Co for $49.00.");
        let discord: Value = serde_json::from_str(&body(EndpointFormat::Discord, &paid())).unwrap();
        assert_eq!(discord["content"], "New sale: @carol bought Tools <&> Co for $49.00.");
        assert_eq!(discord["allowed_mentions"]["parse"], json!([]));
        let revoked = json!({"type": "purchase.revoked", "data": {"purchase": {"status_reason_code": "subscription_ended", "customer": {"github_login": "bob"}, "product": {"title": "SDK"}}}});
        assert_eq!(sentence(&revoked), "@bob lost access to SDK (subscription ended).");
        assert!(sentence(&json!({"type": "purchase.teleported"})).contains("does not describe"));
    }
}
