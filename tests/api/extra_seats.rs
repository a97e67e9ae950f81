//! Seats added to a team purchase of a one-time price: nothing renews, so
//! the manager pays for them once through a Stripe Checkout of their own;
//! they count from the payment (whether the webhook or the manager's return
//! comes first, once), show in the ledger, and go again if that payment is
//! refunded — the managers then asked whom to take back, nobody removed.

use serde_json::{json, Value};

use crate::{
    admin_auth::call,
    helpers::TestApp,
    rest_api::{api, api_key},
    scenarios,
    seats::{buy_team, customer, give, holders, team_of},
    webhooks::wait_for,
};

scenarios!(a_one_time_team_pays_once_for_added_seats, added_seats_follow_the_price_on_sale);

/// "Team Book" on sale: pro-kit, $20.00 once per seat, 1 to 10 seats.
/// Returns (product id, price id, API key).
async fn one_time_team(app: &TestApp) -> (i64, i64, String) {
    let key = api_key(app).await;
    let body = json!({"owner": "sandbox-creator", "name": "pro-kit", "slug": "team-book", "title": "Team Book", "published": true});
    let (status, product) = api(app, Some(&key), "POST", "/repositories", Some(body)).await;
    assert_eq!(status, 201, "{product}");
    let id = product["id"].as_i64().unwrap();
    let price =
        json!({"interval": "one_time", "unit_amount": 2000, "currency": "usd", "seats_min": 1, "seats_max": 10});
    let (status, price) = api(app, Some(&key), "POST", &format!("/repositories/{id}/prices"), Some(price)).await;
    assert_eq!(status, 201, "{price}");
    (id, price["id"].as_i64().unwrap(), key)
}

/// Asks for `seats` seats; returns the Checkout Session id it leads to.
async fn order_seats(app: &TestApp, manager: &reqwest::Client, team: &str, seats: &str) -> String {
    let (status, answer) = call(app, manager, "account/team/seats", &[("id", team), ("seats", seats)]).await;
    assert_eq!(status, 200, "{answer}");
    let url = answer["PayAt"].as_str().unwrap_or_else(|| panic!("a checkout to pay: {answer}"));
    assert!(url.contains("/sandbox/stripe/pay/cs_test_"), "{url}");
    url.rsplit('/').next().unwrap().to_owned()
}

async fn seats_of(app: &TestApp, team_id: i64) -> i64 {
    sqlx::query_scalar("SELECT seats FROM purchases WHERE id = $1").bind(team_id).fetch_one(app.pool()).await.unwrap()
}

async fn ledger(app: &TestApp, team_id: i64) -> Vec<(String, i64)> {
    sqlx::query_as("SELECT kind, amount FROM payments WHERE purchase_id = $1 ORDER BY id")
        .bind(team_id)
        .fetch_all(app.pool())
        .await
        .unwrap()
}

/// Waits until Stripe's `checkout.session.completed` for `session` is processed.
async fn processed(app: &TestApp, session: &str) {
    let sql = format!(
        "SELECT status FROM webhook_events WHERE event_type = 'checkout.session.completed' AND payload LIKE '%{session}%'"
    );
    assert_eq!(wait_for(app, &sql, "processed").await, "processed");
}

async fn a_one_time_team_pays_once_for_added_seats(app: TestApp) {
    let (_, price, _) = one_time_team(&app).await;
    let (team_id, team) = buy_team(&app, price, "acme-admin", "2", false).await;
    assert_eq!(ledger(&app, team_id).await, [("payment".to_owned(), 4000)]);
    let manager = customer(&app, "acme-admin").await;
    for login in ["alice-dev", "bob-dev"] {
        let (status, body) = give(&app, &manager, &team, login).await;
        assert_eq!(status, 200, "{login}: {body}");
    }
    let t = team_of(&app, &manager, &team).await;
    assert_eq!(t["seat_changes"], "PaidOnce", "{t}");
    assert_eq!(t["seats_min"], 2, "the form offers no fewer than paid for: {t}");

    // Fewer: a one-time purchase keeps what it paid for.
    let (status, body) = call(&app, &manager, "account/team/seats", &[("id", &team), ("seats", "1")]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("keeps the 2 seats it paid for"), "{body}");

    // Two more: a checkout of their own, nothing added before it is paid.
    let session = order_seats(&app, &manager, &team, "4").await;
    assert_eq!(seats_of(&app, team_id).await, 2);
    let (_, s) = app.stripe_json(&format!("/checkout/sessions/{session}"), None).await;
    assert_eq!((s["mode"].as_str(), s["amount_total"].as_i64()), (Some("payment"), Some(4000)), "{s}");
    assert_eq!(
        (s["metadata"]["seats_for"].as_str(), s["metadata"]["seats_added"].as_str()),
        (Some(team.as_str()), Some("2"))
    );
    let company_customer: Option<String> = sqlx::query_scalar("SELECT stripe_customer_id FROM purchases WHERE id = $1")
        .bind(team_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(s["customer"].as_str(), company_customer.as_deref(), "the team's own Stripe customer pays");
    // Another company's manager learns nothing of it.
    let other = customer(&app, "globex-admin").await;
    let (status, _) = call(&app, &other, "account/team/seats-paid", &[("session", &session)]).await;
    assert_eq!(status, 404);
    let (status, said) = call(&app, &manager, "account/team/seats-paid", &[("session", &session)]).await;
    assert_eq!(status, 200, "{said}");
    assert!(said.as_str().unwrap().contains("has not confirmed the payment yet"), "{said}");

    app.control(&format!("/stripe/checkout/{session}/pay"), json!({})).await;
    // The manager is back (Stripe asked), and the webhook comes too: added once.
    let (status, said) = call(&app, &manager, "account/team/seats-paid", &[("session", &session)]).await;
    assert_eq!(status, 200, "{said}");
    assert!(said.as_str().unwrap().contains("the team now has 4 seats"), "{said}");
    processed(&app, &session).await;
    assert_eq!(seats_of(&app, team_id).await, 4);
    assert_eq!(ledger(&app, team_id).await, [("payment".to_owned(), 4000), ("payment".to_owned(), 4000)]);
    let logged: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM access_log WHERE purchase_id = $1 AND action = 'seats_changed' ORDER BY id",
    )
    .bind(team_id)
    .fetch_all(app.pool())
    .await
    .unwrap();
    assert_eq!(logged, ["2 → 4 seats: 2 added, paid once ($40.00)"]);
    for login in ["carol-dev", "dave-dev"] {
        let (status, body) = give(&app, &manager, &team, login).await;
        assert_eq!(status, 200, "{login}: {body}");
    }
    assert_eq!(holders(&team_of(&app, &manager, &team).await), ["alice-dev", "bob-dev", "carol-dev", "dave-dev"]);

    // The added seats' payment refunded: they go again, the managers are
    // asked whom to take back, and nobody loses access for it.
    app.control("/stripe/refund", json!({"id": session})).await;
    assert_eq!(
        wait_for(&app, &format!("SELECT CAST(seats AS TEXT) FROM purchases WHERE id = {team_id}"), "2").await,
        "2"
    );
    let asked = wait_for(
        &app,
        &format!("SELECT subject FROM emails WHERE kind = 'seats_over' AND purchase_id = {team_id}"),
        "Choose who keeps a seat of Team Book",
    )
    .await;
    assert_eq!(asked, "Choose who keeps a seat of Team Book");
    let t = team_of(&app, &manager, &team).await;
    assert_eq!((t["seats"].as_i64(), t["in_use"].as_i64(), t["over"].as_i64()), (Some(2), Some(4), Some(2)), "{t}");
    let status: String = sqlx::query_scalar("SELECT status FROM purchases WHERE id = $1")
        .bind(team_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(status, "active", "the team purchase itself stands");
    assert_eq!(
        ledger(&app, team_id).await,
        [("payment".to_owned(), 4000), ("payment".to_owned(), 4000), ("refund".to_owned(), -4000)]
    );
    let holding: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM purchases WHERE seat_of = $1 AND status IN ('invited', 'active')")
            .bind(team_id)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(holding, 4, "nobody removed silently");
}

/// Added seats are sold at the price on sale: the one that replaced the
/// team's (a new amount), and not at all once the product has none.
async fn added_seats_follow_the_price_on_sale(app: TestApp) {
    let (_, price, key) = one_time_team(&app).await;
    let (_, team) = buy_team(&app, price, "acme-admin", "1", false).await;
    let manager = customer(&app, "acme-admin").await;
    let changed =
        json!({"interval": "one_time", "unit_amount": 2500, "currency": "usd", "seats_min": 1, "seats_max": 10});
    let (status, new_price) = api(&app, Some(&key), "PATCH", &format!("/prices/{price}"), Some(changed)).await;
    assert_eq!(status, 200, "{new_price}");
    let session = order_seats(&app, &manager, &team, "2").await;
    let (_, s) = app.stripe_json(&format!("/checkout/sessions/{session}"), None).await;
    assert_eq!(s["amount_total"].as_i64(), Some(2500), "one seat at the new amount: {s}");

    let (status, body) = api(&app, Some(&key), "DELETE", &format!("/prices/{}", new_price["id"]), None).await;
    assert!(status < 300, "{status} {body}");
    let (status, body): (u16, Value) =
        call(&app, &manager, "account/team/seats", &[("id", &team), ("seats", "2")]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("no longer sold"), "{body}");
}
