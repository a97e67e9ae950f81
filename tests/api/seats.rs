//! Team purchases over HTTP: a company buys seats of a per-seat price, its
//! manager hands them out at `/account` (each seat its holder's own access,
//! on GitHub and in the access log), adds a seat (Stripe charges it pro
//! rata now), lowers the seats for the next renewal (and is asked whom to
//! drop, nobody being removed for them), and cancelling removes every
//! holder. Only a team's managers manage its seats.

use serde_json::{json, Value};

use crate::{
    account::sign_in_customer,
    admin_auth::{browser, call},
    helpers::TestApp,
    rest_api::{api, api_key},
    scenarios,
    webhooks::wait_for,
};

scenarios!(
    a_team_buys_hands_out_adds_lowers_and_cancels_its_seats,
    only_a_teams_managers_manage_its_seats,
    seats_are_checked_at_the_price_and_at_checkout,
    a_team_taken_back_and_restored_takes_its_holders_along
);

/// "Team Kit" on sale: pro-kit, $9.00 a month per seat, 1 to 10 seats.
/// Returns (product id, price id, API key).
async fn team_product(app: &TestApp) -> (i64, i64, String) {
    let key = api_key(app).await;
    let body = json!({"owner": "sandbox-creator", "name": "pro-kit", "slug": "team-kit", "title": "Team Kit", "published": true});
    let (status, product) = api(app, Some(&key), "POST", "/repositories", Some(body)).await;
    assert_eq!(status, 201, "{product}");
    let id = product["id"].as_i64().unwrap();
    let price = json!({"interval": "month", "unit_amount": 900, "currency": "usd", "seats_min": 1, "seats_max": 10});
    let (status, price) = api(app, Some(&key), "POST", &format!("/repositories/{id}/prices"), Some(price)).await;
    assert_eq!(status, 201, "{price}");
    assert_eq!((price["seats_min"].as_i64(), price["seats_max"].as_i64()), (Some(1), Some(10)));
    (id, price["id"].as_i64().unwrap(), key)
}

/// The buy form, as a browser without JavaScript sends it.
async fn checkout(app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    app.client.post(app.url("/api/checkout")).header("accept", "text/html").form(form).send().await.unwrap()
}

/// `manager` buys `seats` seats of `price` (taking one or not) and pays;
/// returns the team purchase's id and public id once it is active.
pub(crate) async fn buy_team(app: &TestApp, price: i64, manager: &str, seats: &str, take_seat: bool) -> (i64, String) {
    app.control("/github/users", json!({"login": manager})).await;
    let price = price.to_string();
    let email = format!("{manager}@example.com");
    let mut form =
        vec![("price_id", price.as_str()), ("github_username", manager), ("email", email.as_str()), ("seats", seats)];
    if take_seat {
        form.push(("take_seat", "on"));
    }
    let response = checkout(app, &form).await;
    assert_eq!(response.status(), 303, "{:?}", response.text().await);
    let session = response.headers()["location"].to_str().unwrap().rsplit('/').next().unwrap().to_owned();
    app.control(&format!("/stripe/checkout/{session}/pay"), json!({})).await;
    let (id, public_id): (i64, String) =
        sqlx::query_as("SELECT id, public_id FROM purchases WHERE stripe_checkout_session_id = $1")
            .bind(&session)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(wait_for(app, &format!("SELECT status FROM purchases WHERE id = {id}"), "active").await, "active");
    (id, public_id)
}

/// A signed-in customer's browser.
pub(crate) async fn customer(app: &TestApp, login: &str) -> reqwest::Client {
    app.control("/github/users", json!({"login": login})).await;
    let who = browser();
    sign_in_customer(app, &who, login).await;
    who
}

/// The team as the signed-in customer's `/account` shows it.
pub(crate) async fn team_of(app: &TestApp, who: &reqwest::Client, public_id: &str) -> Value {
    let (status, body) = call(app, who, "account/overview", &[]).await;
    assert_eq!(status, 200, "{body}");
    let found = body["purchases"].as_array().unwrap().iter().find(|p| p["id"] == public_id).cloned();
    found.map(|p| p["team"].clone()).unwrap_or(Value::Null)
}

pub(crate) fn holders(team: &Value) -> Vec<String> {
    let mut out: Vec<String> =
        team["holders"].as_array().unwrap().iter().map(|h| h["github_login"].as_str().unwrap().to_owned()).collect();
    out.sort();
    out
}

pub(crate) fn seat_id(team: &Value, login: &str) -> String {
    team["holders"].as_array().unwrap().iter().find(|h| h["github_login"] == login).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Who is invited to, or a collaborator of, pro-kit on the sandbox's GitHub.
async fn on_pro_kit(app: &TestApp) -> Vec<String> {
    let state = app.control_get("/github/state").await;
    let repo = state["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["full_name"] == "sandbox-creator/pro-kit")
        .cloned()
        .unwrap();
    let mut out: Vec<String> = repo["collaborators"]
        .as_array()
        .unwrap()
        .iter()
        .chain(repo["invitations"].as_array().unwrap())
        .filter_map(|c| c["login"].as_str())
        .filter(|l| *l != "sandbox-creator")
        .map(str::to_owned)
        .collect();
    out.sort();
    out.dedup();
    out
}

pub(crate) async fn give(app: &TestApp, who: &reqwest::Client, team: &str, login: &str) -> (u16, Value) {
    app.control("/github/users", json!({"login": login})).await;
    call(app, who, "account/team/give", &[("id", team), ("github_username", login)]).await
}

pub(crate) async fn subscription_of(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar("SELECT stripe_subscription_id FROM purchases WHERE id = $1")
        .bind(id)
        .fetch_one(app.pool())
        .await
        .unwrap()
}

async fn a_team_buys_hands_out_adds_lowers_and_cancels_its_seats(app: TestApp) {
    let (_, price, key) = team_product(&app).await;
    // Three seats; the manager does not take one at checkout.
    let (team_id, team) = buy_team(&app, price, "acme-admin", "3", false).await;
    let paid: i64 = sqlx::query_scalar("SELECT amount FROM purchases WHERE id = $1")
        .bind(team_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(paid, 2700, "three seats at $9.00");
    let sub = subscription_of(&app, team_id).await;
    let (_, stripe_sub) = app.stripe_json(&format!("/subscriptions/{sub}"), None).await;
    assert_eq!(stripe_sub["items"]["data"][0]["quantity"], 3, "{stripe_sub}");
    assert!(on_pro_kit(&app).await.is_empty(), "nobody holds a seat yet");

    // The manager hands out two seats and takes the third.
    let manager = customer(&app, "acme-admin").await;
    let t = team_of(&app, &manager, &team).await;
    assert_eq!((t["seats"].as_i64(), t["in_use"].as_i64(), t["manager"].as_bool()), (Some(3), Some(0), Some(true)));
    for login in ["alice-dev", "bob-dev", "acme-admin"] {
        let (status, body) = give(&app, &manager, &team, login).await;
        assert_eq!(status, 200, "{login}: {body}");
    }
    assert_eq!(on_pro_kit(&app).await, ["acme-admin", "alice-dev", "bob-dev"]);
    let t = team_of(&app, &manager, &team).await;
    assert_eq!(holders(&t), ["acme-admin", "alice-dev", "bob-dev"]);
    assert_eq!((t["in_use"].as_i64(), t["free"].as_i64()), (Some(3), Some(0)));
    // Full: a fourth person needs a fourth seat.
    let (status, body) = give(&app, &manager, &team, "carol-dev").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("all 3 seats are in use"), "{body}");
    // Each holder's access is their own purchase with its own log.
    let bob_seat = seat_id(&t, "bob-dev");
    let (status, bob) = api(&app, Some(&key), "GET", "/purchases?q=bob-dev", None).await;
    assert_eq!(status, 200, "{bob}");
    let bob_purchase = bob["data"][0]["id"].as_i64().unwrap();
    let logged: Vec<String> = sqlx::query_scalar("SELECT action FROM access_log WHERE purchase_id = $1 ORDER BY id")
        .bind(bob_purchase)
        .fetch_all(app.pool())
        .await
        .unwrap();
    assert_eq!(logged, ["seat_given", "invitation_sent"]);

    // Bob leaves: removed from GitHub at once, his seat free again.
    let (status, body) = call(&app, &manager, "account/team/take-back", &[("id", &team), ("seat", &bob_seat)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(on_pro_kit(&app).await, ["acme-admin", "alice-dev"]);
    let (reason, status): (Option<String>, String) =
        sqlx::query_as("SELECT status_reason_code, status FROM purchases WHERE id = $1")
            .bind(bob_purchase)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!((reason.as_deref(), status.as_str()), (Some("seat_taken_back"), "revoked"));
    assert_eq!(team_of(&app, &manager, &team).await["free"], 1);

    // Half a month later, a fourth seat: in force now, Stripe charges it pro
    // rata for the rest of the period.
    app.control("/clock/advance", json!({"days": 15})).await;
    let (status, said) = call(&app, &manager, "account/team/seats", &[("id", &team), ("seats", "4")]).await;
    assert_eq!(status, 200, "{said}");
    assert!(said["Said"].as_str().unwrap().contains("now has 4 seats"), "{said}");
    let (_, stripe_sub) = app.stripe_json(&format!("/subscriptions/{sub}"), None).await;
    assert_eq!(stripe_sub["items"]["data"][0]["quantity"], 4, "{stripe_sub}");
    let proration = wait_for(
        &app,
        &format!("SELECT CAST(amount AS TEXT) FROM payments WHERE purchase_id = {team_id} AND kind = 'payment' AND amount < 2700"),
        "never",
    )
    .await;
    let prorated: i64 = proration.parse().unwrap_or_else(|_| panic!("no prorated payment recorded: {proration:?}"));
    assert!((300..600).contains(&prorated), "about half of one seat's month: {prorated}");
    let t = team_of(&app, &manager, &team).await;
    assert_eq!((t["seats"].as_i64(), t["free"].as_i64()), (Some(4), Some(2)));
    let (status, body) = give(&app, &manager, &team, "carol-dev").await;
    assert_eq!(status, 200, "{body}");
    // The creator's monthly revenue counts the seats the team has now.
    let summary = server::dashboard::summary(&app.state.db).await.unwrap();
    assert_eq!(summary.mrr.get("usd"), Some(&3600), "4 seats at $9.00: {:?}", summary.mrr);

    // Two seats from the next renewal: nobody loses access for it now.
    let (status, said) = call(&app, &manager, "account/team/seats", &[("id", &team), ("seats", "2")]).await;
    assert_eq!(status, 200, "{said}");
    assert!(said["Said"].as_str().unwrap().contains("take 1 back"), "{said}");
    let (_, stripe_sub) = app.stripe_json(&format!("/subscriptions/{sub}"), None).await;
    assert_eq!(stripe_sub["items"]["data"][0]["quantity"], 2, "Stripe bills 2 from the renewal: {stripe_sub}");
    let t = team_of(&app, &manager, &team).await;
    assert_eq!((t["seats"].as_i64(), t["seats_next"].as_i64(), t["over"].as_i64()), (Some(4), Some(2), Some(0)));
    assert_eq!(on_pro_kit(&app).await, ["acme-admin", "alice-dev", "carol-dev"]);

    // The renewal: two seats, three holders. The manager is asked; nobody is removed.
    app.control(&format!("/stripe/subscriptions/{sub}/renew"), json!({})).await;
    assert_eq!(
        wait_for(&app, &format!("SELECT CAST(seats AS TEXT) FROM purchases WHERE id = {team_id}"), "2").await,
        "2"
    );
    let asked = wait_for(
        &app,
        &format!("SELECT subject FROM emails WHERE kind = 'seats_over' AND purchase_id = {team_id}"),
        "Choose who keeps a seat of Team Kit",
    )
    .await;
    assert_eq!(asked, "Choose who keeps a seat of Team Kit");
    let t = team_of(&app, &manager, &team).await;
    assert_eq!((t["seats"].as_i64(), t["in_use"].as_i64(), t["over"].as_i64()), (Some(2), Some(3), Some(1)));
    assert_eq!(on_pro_kit(&app).await, ["acme-admin", "alice-dev", "carol-dev"], "nobody removed silently");
    let carol = seat_id(&t, "carol-dev");
    let (status, body) = call(&app, &manager, "account/team/take-back", &[("id", &team), ("seat", &carol)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(team_of(&app, &manager, &team).await["over"], 0);

    // Cancelled: every holder loses access, each in their own log.
    app.control(&format!("/stripe/subscriptions/{sub}/cancel"), json!({})).await;
    assert_eq!(
        wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {team_id}"), "revoked").await,
        "revoked"
    );
    assert!(on_pro_kit(&app).await.is_empty(), "{:?}", on_pro_kit(&app).await);
    let ended: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT github_login, status_reason_code FROM purchases WHERE seat_of = $1 AND status = 'revoked' ORDER BY github_login",
    )
    .bind(team_id)
    .fetch_all(app.pool())
    .await
    .unwrap();
    assert_eq!(
        ended,
        [
            ("acme-admin".to_owned(), Some("team_ended".to_owned())),
            ("alice-dev".to_owned(), Some("team_ended".to_owned())),
            ("bob-dev".to_owned(), Some("seat_taken_back".to_owned())),
            ("carol-dev".to_owned(), Some("seat_taken_back".to_owned())),
        ]
    );
    // The ledger counts the team's money once: three seats, the prorated fourth, the renewal of two.
    let received: i64 = sqlx::query_scalar("SELECT CAST(SUM(amount) AS BIGINT) FROM payments WHERE purchase_id IN (SELECT id FROM purchases WHERE seat_of = $1 OR id = $1) AND kind <> 'refund'")
        .bind(team_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(received, 2700 + prorated + 1800);
}

async fn only_a_teams_managers_manage_its_seats(app: TestApp) {
    let (_, price, _) = team_product(&app).await;
    let (_, team) = buy_team(&app, price, "acme-admin", "3", true).await;
    let (_, other_team) = buy_team(&app, price, "globex-admin", "2", false).await;
    let manager = customer(&app, "acme-admin").await;
    // The buyer's seat, chosen at checkout, was granted with the payment.
    assert_eq!(holders(&team_of(&app, &manager, &team).await), ["acme-admin"]);
    let (status, body) = give(&app, &manager, &team, "alice-dev").await;
    assert_eq!(status, 200, "{body}");
    let t = team_of(&app, &manager, &team).await;
    let alice_seat = seat_id(&t, "alice-dev");

    // A holder sees their seat and whose it is, not the team's seats, and cannot manage them.
    let alice = customer(&app, "alice-dev").await;
    let (_, overview) = call(&app, &alice, "account/overview", &[]).await;
    let mine = overview["purchases"].as_array().unwrap();
    assert_eq!(mine.len(), 1, "{overview}");
    assert_eq!(mine[0]["given_by"], "acme-admin");
    assert!(mine[0]["team"].is_null(), "{overview}");
    for (endpoint, form) in [
        ("account/team/give", vec![("id", team.as_str()), ("github_username", "mallory")]),
        ("account/team/take-back", vec![("id", team.as_str()), ("seat", alice_seat.as_str())]),
        ("account/team/resend", vec![("id", team.as_str()), ("seat", alice_seat.as_str())]),
        ("account/team/seats", vec![("id", team.as_str()), ("seats", "5")]),
        ("account/team/appoint", vec![("id", team.as_str()), ("github_username", "alice-dev")]),
    ] {
        let (status, body) = call(&app, &alice, endpoint, &form).await;
        assert_eq!(status, 404, "a holder at {endpoint}: {body}");
    }
    // Nor can she move her seat to another account herself.
    let (status, body) =
        call(&app, &alice, "account/move", &[("id", &alice_seat), ("github_username", "alice-alt")]).await;
    assert_eq!(status, 400, "{body}");

    // Another company's manager can neither see nor touch these seats.
    let globex = customer(&app, "globex-admin").await;
    assert!(team_of(&app, &globex, &team).await.is_null());
    assert_eq!(holders(&team_of(&app, &globex, &other_team).await), Vec::<String>::new());
    for (endpoint, form) in [
        ("account/team/give", vec![("id", team.as_str()), ("github_username", "mallory")]),
        ("account/team/take-back", vec![("id", team.as_str()), ("seat", alice_seat.as_str())]),
        ("account/team/seats", vec![("id", team.as_str()), ("seats", "5")]),
        // Their own team id with a seat of another team: not theirs either.
        ("account/team/take-back", vec![("id", other_team.as_str()), ("seat", alice_seat.as_str())]),
    ] {
        let (status, body) = call(&app, &globex, endpoint, &form).await;
        assert_eq!(status, 404, "another manager at {endpoint}: {body}");
    }
    assert_eq!(on_pro_kit(&app).await, ["acme-admin", "alice-dev"]);

    // An appointed manager may.
    app.control("/github/users", json!({"login": "bob-lead"})).await;
    let (status, body) =
        call(&app, &manager, "account/team/appoint", &[("id", &team), ("github_username", "bob-lead")]).await;
    assert_eq!(status, 200, "{body}");
    let bob = customer(&app, "bob-lead").await;
    assert_eq!(team_of(&app, &bob, &team).await["manager"], true);
    let (status, body) = give(&app, &bob, &team, "carol-dev").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(on_pro_kit(&app).await, ["acme-admin", "alice-dev", "carol-dev"]);
    // Organisations hold no seat.
    let (status, body) =
        call(&app, &bob, "account/team/give", &[("id", &team), ("github_username", "sandbox-org")]).await;
    assert_eq!(status, 400, "{body}");
}

async fn seats_are_checked_at_the_price_and_at_checkout(app: TestApp) {
    let (id, price, key) = team_product(&app).await;
    for (body, field) in [
        (json!({"interval": "month", "unit_amount": 900, "currency": "usd", "seats_min": 0}), "seats"),
        (json!({"interval": "month", "unit_amount": 900, "currency": "usd", "seats_min": 5, "seats_max": 2}), "seats"),
        (
            json!({"interval": "one_time", "unit_amount": 900, "currency": "usd", "seats_min": 2, "pay_what_you_want": true}),
            "seats",
        ),
    ] {
        let (status, refused) = api(&app, Some(&key), "POST", &format!("/repositories/{id}/prices"), Some(body)).await;
        assert_eq!((status, refused["error"]["field"].as_str()), (422, Some(field)), "{refused}");
    }
    app.control("/github/users", json!({"login": "acme-admin"})).await;
    let price = price.to_string();
    let base = [("price_id", price.as_str()), ("github_username", "acme-admin"), ("email", "a@example.com")];
    for (seats, words) in
        [(None, "choose how many seats"), (Some("11"), "choose 1 to 10 seats"), (Some("two"), "not a number of seats")]
    {
        let mut form = base.to_vec();
        if let Some(s) = seats {
            form.push(("seats", s));
        }
        let response = app.client.post(app.url("/api/checkout")).form(&form).send().await.unwrap();
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert!(body.to_string().contains(words), "{seats:?}: {body}");
    }
    let opened: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM purchases").fetch_one(app.pool()).await.unwrap();
    assert_eq!(opened, 0, "a refused checkout records nothing");
}

async fn a_team_taken_back_and_restored_takes_its_holders_along(app: TestApp) {
    let (_, price, key) = team_product(&app).await;
    let (team_id, team) = buy_team(&app, price, "acme-admin", "2", true).await;
    let manager = customer(&app, "acme-admin").await;
    let (status, body) = give(&app, &manager, &team, "alice-dev").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(on_pro_kit(&app).await, ["acme-admin", "alice-dev"]);
    let (status, body) =
        api(&app, Some(&key), "POST", &format!("/purchases/{team_id}/revoke"), Some(json!({"reason": "chargeback"})))
            .await;
    assert_eq!(status, 200, "{body}");
    assert!(on_pro_kit(&app).await.is_empty());
    let (status, body) = give(&app, &manager, &team, "carol-dev").await;
    assert_eq!(status, 400, "an ended team hands out nothing: {body}");
    let (status, body) = api(&app, Some(&key), "POST", &format!("/purchases/{team_id}/restore"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(on_pro_kit(&app).await, ["acme-admin", "alice-dev"]);
    let t = team_of(&app, &manager, &team).await;
    assert_eq!((t["in_use"].as_i64(), t["in_force"].as_bool()), (Some(2), Some(true)));
}
