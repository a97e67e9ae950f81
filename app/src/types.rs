//! Types the browser sees. They are shaped for display, not copied from
//! database rows, and never carry secrets.

use serde::{Deserialize, Serialize};

/// How a price bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PriceKind {
    OneTime,
    Monthly,
    Yearly,
}

impl PriceKind {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "one_time" => Some(PriceKind::OneTime),
            "monthly" => Some(PriceKind::Monthly),
            "yearly" => Some(PriceKind::Yearly),
            _ => None,
        }
    }

    /// The suffix after an amount: "$9.00/month".
    pub fn per(self) -> &'static str {
        match self {
            PriceKind::OneTime => "",
            PriceKind::Monthly => "/month",
            PriceKind::Yearly => "/year",
        }
    }
}

/// One repository on the storefront.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductCard {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub cover_url: Option<String>,
    /// "from $9.00/month", or None when no price is on sale yet.
    pub from_price: Option<String>,
}

/// The signed-in person, as the header shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Viewer {
    pub login: String,
    pub avatar_url: String,
    pub is_admin: bool,
}

/// How a check of `repopass doctor` came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckLevel {
    Ok,
    Warning,
    Problem,
}

impl CheckLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckLevel::Ok => "ok",
            CheckLevel::Warning => "warning",
            CheckLevel::Problem => "problem",
        }
    }
}

/// One line of `repopass doctor`, as the settings page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckLine {
    pub area: String,
    pub level: CheckLevel,
    pub what: String,
    /// The one thing to do, unless it is ok.
    pub fix: Option<String>,
}

/// The settings page: each connection and what to do about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionStatus {
    pub sandbox: bool,
    pub github_mode: String,
    pub github_problem: Option<String>,
    pub repositories: Vec<String>,
    pub stripe_mode: String,
    pub stripe_webhook_url: String,
    pub stripe_webhook_secret_set: bool,
    pub github_webhook_url: String,
    pub github_webhook_secret_set: bool,
    pub sign_in_configured: bool,
    pub email: String,
    /// The key is set by STRIPE_SECRET_KEY (and cannot be changed here).
    pub stripe_key_from_env: bool,
    /// RepoPass's webhook endpoint in Stripe, as Stripe has it now.
    pub stripe_endpoint: Option<EndpointView>,
}

/// The Stripe webhook endpoint on the settings page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointView {
    pub id: Option<String>,
    pub url: Option<String>,
    pub events: Vec<String>,
    /// What is wrong with it (gone, elsewhere, events missing); None: fine.
    pub problem: Option<String>,
}

/// A Stripe key that was connected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StripeConnected {
    /// "Acme Ltd (acct_123)".
    pub account: String,
    pub live: bool,
    pub endpoint_id: String,
}

/// Where setup stands, for the wizard at `/setup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupView {
    /// Nothing left to do (or the sandbox): the wizard points to /admin.
    pub finished: bool,
    /// This browser opened the setup link.
    pub holder: bool,
    pub github: bool,
    pub owner: bool,
    pub stripe: bool,
    /// The admin signed in in this browser.
    pub signed_in_as: Option<String>,
    /// GitHub's web address: the manifest form goes to its "new App" page
    /// (the creator's account, or an organisation they name).
    pub github_web_url: String,
    /// The manifest the form sends, and the `state` GitHub hands back.
    pub manifest: String,
    pub manifest_state: String,
    /// The App's installation page, once the App exists.
    pub install_url: Option<String>,
    /// Repositories the App can reach now.
    pub repositories: Vec<String>,
    pub stripe_webhook_url: String,
    /// STRIPE_SECRET_KEY is set in the environment: the wizard only creates
    /// the webhook endpoint with it.
    pub stripe_key_from_env: bool,
}

/// An API key in the admin list (never the key itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked: bool,
}

/// A key just created: `secret` is shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewApiKey {
    pub id: i64,
    pub name: String,
    pub secret: String,
}

/// A GitHub repository the connection administers, for "Add a repository".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReachableRepo {
    pub github_id: i64,
    pub full_name: String,
    pub private: bool,
    pub already_added: bool,
}

/// A repository in the admin list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepoRow {
    pub id: i64,
    pub full_name: String,
    pub title: String,
    pub slug: String,
    pub status: String,
    /// What GitHub last said of the repository, when it is not simply fine
    /// (`renamed`, `archived`, `deleted`, `access_lost`, ...).
    pub github_trouble: Option<String>,
}

/// A repository's page, as the creator edits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepoEdit {
    pub id: i64,
    pub full_name: String,
    pub owner_is_org: bool,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub description: String,
    pub description_html: String,
    /// The statuses the creator may move it to from here (the server's rule).
    pub moves: Vec<String>,
    pub status: String,
    /// What GitHub last said of the repository, when it is not simply fine
    /// (`renamed`, `archived`, `deleted`, `access_lost`, ...).
    pub github_trouble: Option<String>,
    /// Where the cover image is served, if there is one.
    pub cover_url: Option<String>,
    /// Prices on sale, one-time first.
    pub prices: Vec<PriceRow>,
    /// Currencies a price can be in (lowercase ISO codes).
    pub currencies: Vec<String>,
    /// The repositories the product grants.
    pub repositories: Vec<ProductRepo>,
    /// `org/slug` of the GitHub team its holders are members of (team access).
    pub team: Option<String>,
    /// The organisation every repository belongs to (team access is possible).
    pub team_org: Option<String>,
}

/// A repository of a product, as its editor shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductRepo {
    pub repository_id: i64,
    pub github_id: i64,
    /// `owner/name`.
    pub full_name: String,
    /// Its own access level in words, or "the price's".
    pub level: String,
    /// Customers who would lose it if it were taken out.
    pub customers: usize,
    /// Customers queued for an invitation to it (GitHub's limits).
    pub waiting: i64,
}

/// A price on sale, as the creator manages it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceRow {
    pub id: i64,
    /// `one_time`, `month` or `year`.
    pub interval: String,
    pub amount: i64,
    pub currency: String,
    pub trial_days: i64,
    pub permission: String,
    /// Pay what you want: `amount` is the minimum.
    pub pay_what_you_want: bool,
    pub suggested_amount: Option<i64>,
    /// A one-time price's period of access, in days.
    pub access_days: Option<i64>,
    /// Sold per seat: the fewest and most seats.
    pub seats: Option<(i64, i64)>,
}

/// A product page, as buyers see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductPage {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub description_html: String,
    pub cover_url: Option<String>,
    /// `owner/name` of each repository the buyer gets.
    pub repositories: Vec<String>,
    /// The repositories with an access level of their own (not the
    /// price's): `owner/name` and the level in words.
    pub own_levels: Vec<(String, String)>,
    pub prices: Vec<BuyPrice>,
    /// Absolute URLs for the canonical link and social previews.
    pub canonical_url: String,
    pub image_url: Option<String>,
}

/// A price on a product page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuyPrice {
    pub id: i64,
    /// `one_time`, `month` or `year`.
    pub interval: String,
    /// "$49.00", "$9.00 / month".
    pub amount_text: String,
    pub trial_days: i64,
    /// What GitHub will grant, in words ("read", "write"...).
    pub access: String,
    /// Pay what you want: the buyer names the amount at checkout.
    pub pay_what_you_want: bool,
    /// A period of access: its length in days, and when it would end if
    /// bought now ("3 Dec 2027").
    pub access_days: Option<i64>,
    pub access_until: Option<String>,
    /// Sold per seat: the fewest and most seats a buyer may pick.
    pub seats: Option<(i64, i64)>,
}

/// A GitHub account the buyer typed, as GitHub knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GithubUser {
    pub login: String,
    pub name: Option<String>,
    pub avatar_url: String,
}

/// What a visitor last sent with a buy form, to fill it in again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuyFormDraft {
    pub price_id: i64,
    pub github_username: String,
    pub email: String,
}

/// Where a purchase stands after checkout, for the success page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckoutProgress {
    /// A team purchase: its seats (handed out from /account, not invited here).
    pub seats: Option<i64>,
    /// What the page says at the top.
    pub heading: String,
    /// The steps done so far, as the server decided them.
    pub paid: bool,
    pub invited: bool,
    pub active: bool,
    /// Nothing changes from here without the buyer doing something: stop polling.
    pub settled: bool,
    /// "Payment confirmed", or "Trial started — …".
    pub paid_words: String,
    /// A bank debit under way: days, and an email when it lands.
    pub payment_on_its_way: bool,
    pub title: String,
    pub slug: String,
    /// Each repository the purchase grants.
    pub repositories: Vec<RepoLink>,
    pub github_login: String,
    /// `pending`, `paid`, `invited`, `active`, `revoked` or `expired`.
    pub status: String,
    /// The link to accept the invitation on GitHub, while it is pending.
    pub invitation_url: Option<String>,
    /// Why it stopped, when it did.
    pub problem: Option<String>,
    /// The last day of a period of access ("3 Dec 2027"), when it has one.
    pub access_until: Option<String>,
}

/// `/account`: who the customer signed in as, and their purchases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// "@alice" and/or "alice@example.com".
    pub signed_in_as: Vec<String>,
    /// Whether GitHub sign-in is still worth offering (signed in by email only).
    pub can_add_github: bool,
    pub purchases: Vec<AccountPurchase>,
}

/// One purchase as its customer sees it; the words are the server's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountPurchase {
    pub id: String,
    pub title: String,
    /// Each repository the purchase grants.
    pub repositories: Vec<RepoLink>,
    pub product_url: String,
    pub github_login: String,
    pub price_text: String,
    pub status: String,
    pub headline: String,
    pub when: Option<String>,
    pub invitation_url: Option<String>,
    pub can_resend: bool,
    /// The invitation was accepted: the repository opens on GitHub.
    pub can_open: bool,
    pub can_move: bool,
    /// When a move is not possible yet, the day it will be.
    pub move_after: Option<String>,
    pub can_manage_billing: bool,
    /// Within a week of the end of access: why, and that GitHub deletes forks.
    pub ending_soon: Option<String>,
    /// The product page, where another period of access can be bought
    /// before this one ends (it starts when this one ends).
    pub renew_url: Option<String>,
    /// A team purchase: its seats (holders listed for its managers).
    pub team: Option<TeamSeats>,
    /// A seat: whose team purchase gave it ("acme-admin").
    pub given_by: Option<String>,
}

/// A team purchase's seats, as its managers see and manage them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamSeats {
    pub id: String,
    pub title: String,
    pub seats: i64,
    pub seats_next: Option<i64>,
    /// "from the renewal on 3 Jan 2027", when fewer seats are chosen.
    pub seats_next_when: Option<String>,
    pub in_use: i64,
    pub free: i64,
    /// Holders beyond the seats paid for: the managers choose whom to remove.
    pub over: i64,
    /// The seats a team may have (the price's range).
    pub seats_min: i64,
    pub seats_max: i64,
    /// How the number of seats changes.
    pub seat_changes: SeatChanges,
    pub holders: Vec<SeatHolder>,
    pub managers: Vec<String>,
    /// The team purchase is in force (seats can be handed out).
    pub in_force: bool,
    /// This customer manages the seats (a holder only sees their own).
    pub manager: bool,
}

/// How a team's number of seats changes on `/account`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeatChanges {
    /// A subscription: more now, charged pro rata; fewer from the renewal.
    Prorated,
    /// A one-time price: more are paid once (Stripe Checkout); never fewer.
    PaidOnce,
}

/// What "Change seats" did: said in words, or a payment to make first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeatsAnswer {
    Said(String),
    /// Stripe Checkout for the added seats: the page goes there.
    PayAt(String),
}

/// One holder's seat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeatHolder {
    /// The seat's own public id.
    pub id: String,
    pub github_login: String,
    pub status: String,
    pub headline: String,
    pub repositories: Vec<RepoLink>,
    pub can_resend: bool,
}

/// A repository a purchase grants, with where it is on GitHub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepoLink {
    /// `owner/name`.
    pub full_name: String,
    /// The repository on GitHub's website.
    pub url: String,
    /// The repository's code as a zip, to keep before access ends.
    pub download_url: String,
    /// Where the buyer's access to it stands, once paid.
    pub access: Option<RepoAccess>,
}

/// One repository's access, as its buyer and the creator see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepoAccess {
    /// `waiting`, `invited`, `active` or `removed`.
    pub state: String,
    /// In words ("invited: accept the invitation on GitHub").
    pub words: String,
    /// The link to accept the invitation, while it waits.
    pub invitation_url: Option<String>,
}

impl RepoLink {
    /// `web`: GitHub's website (github.com, or the sandbox's).
    pub fn new(web: &str, full_name: String) -> Self {
        let web = web.trim_end_matches('/');
        RepoLink {
            url: format!("{web}/{full_name}"),
            download_url: format!("{web}/{full_name}/archive/HEAD.zip"),
            full_name,
            access: None,
        }
    }

    /// A repository a purchase grants, with where its access stands.
    #[cfg(feature = "ssr")]
    pub fn of_grant(web: &str, r: &server::grants::RepoGrant) -> Self {
        RepoLink {
            access: r.grant.as_ref().map(|g| RepoAccess {
                state: g.status.to_string(),
                words: r.words(),
                invitation_url: r.invitation_url().map(str::to_owned),
            }),
            ..RepoLink::new(web, r.full_name.clone())
        }
    }
}

/// Stripe Tax at checkout, as the settings page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxSetting {
    pub on: bool,
    /// Stripe's default tax behavior in words ("your prices include tax").
    pub behavior: Option<String>,
}

/// What became of one outgoing webhook delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryState {
    /// Not answered with a 2xx yet: an attempt is due or waits its turn.
    Pending,
    Delivered,
    Failed,
}

impl DeliveryState {
    pub fn words(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }
}

/// One request made for a delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptView {
    pub attempted_at: i64,
    /// None: no answer (`error` says why).
    pub status_code: Option<i64>,
    pub error: Option<String>,
    /// The first KB of the answer.
    pub response_body: String,
    pub duration_ms: i64,
}

/// One event sent (or to be sent) to one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub id: i64,
    pub message_id: String,
    pub event_type: String,
    pub state: DeliveryState,
    pub created_at: i64,
    pub next_attempt_at: Option<i64>,
    pub last_error: Option<String>,
    pub request_body: String,
    pub attempts: Vec<AttemptView>,
}

/// What an outgoing webhook endpoint is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BodyFormat {
    /// Signed JSON events.
    Standard,
    /// A sentence per event, for a chat channel.
    Slack,
    Discord,
}

/// An outgoing webhook endpoint with its latest deliveries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEndpointView {
    pub id: i64,
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    pub format: BodyFormat,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<i64>,
    /// While a rotation overlaps: until when the previous secret signs too.
    pub previous_secret_until: Option<i64>,
    pub deliveries: Vec<DeliveryView>,
}

/// An event type an endpoint can subscribe to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventTypeOption {
    /// The wire word (`purchase.paid`).
    pub value: String,
    /// When it is sent, in words.
    pub label: String,
}

/// `/admin/settings/webhooks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhooksOverview {
    pub sandbox: bool,
    /// Where the sandbox's request bin receives (zero-config mode only).
    pub request_bin_url: Option<String>,
    /// Whether a creator email is set to hear of a disabled endpoint.
    pub creator_email_set: bool,
    pub event_types: Vec<EventTypeOption>,
    pub endpoints: Vec<WebhookEndpointView>,
}

/// A signing secret just made: shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevealedSecret {
    pub endpoint_id: i64,
    pub url: String,
    pub secret: String,
    /// The sandbox request bin the endpoint points at, if it does: the
    /// secret can be handed to it to check signatures.
    pub request_bin: Option<String>,
}

/// How often the creator's summary email goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SummaryChoice {
    Never,
    Daily,
    Weekly,
}

impl SummaryChoice {
    /// The form's value.
    pub fn value(self) -> &'static str {
        match self {
            SummaryChoice::Never => "never",
            SummaryChoice::Daily => "daily",
            SummaryChoice::Weekly => "weekly",
        }
    }
}

/// Settings → Notifications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationSettings {
    /// Empty: none set.
    pub email: String,
    pub sale_emails: bool,
    pub cancellation_emails: bool,
    pub summary: SummaryChoice,
}

/// An alert a recipient can be sent (Settings → Alerts & backups).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertKindOption {
    /// The wire word (`dead_job`).
    pub value: String,
    pub label: String,
    /// Access or money at risk now (the rest are warnings).
    pub critical: bool,
}

/// One alert, open or resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertView {
    pub id: i64,
    pub label: String,
    /// What happened, as last seen.
    pub summary: String,
    /// What it affects, a line each.
    pub affects: Vec<String>,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
    pub occurrences: i64,
    /// Whether an email went out about it.
    pub notified: bool,
}

/// An address and the alerts it gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecipientView {
    pub id: i64,
    pub email: String,
    pub kinds: Vec<String>,
}

/// A chat channel (a Slack or Discord endpoint) that hears alerts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertChatView {
    pub endpoint_id: i64,
    pub url: String,
    pub format: BodyFormat,
    pub enabled: bool,
}

/// What became of one backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackupState {
    Verified,
    Failed,
    Pruned,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupView {
    pub id: i64,
    pub path: String,
    pub taken_at: i64,
    pub bytes: i64,
    pub state: BackupState,
    pub detail: String,
}

/// The backups part of the page: on SQLite only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupsOverview {
    pub sqlite: bool,
    /// Scheduled daily (`REPOPASS_BACKUP_KEEP` over 0).
    pub enabled: bool,
    pub dir: String,
    pub keep: u32,
    pub last_verified: Option<BackupView>,
    /// The last verified backup's age in words ("3 h 20 min"), on the
    /// clock dated decisions use.
    pub age: Option<String>,
    /// Older than two days: an alert is out.
    pub stale: bool,
    pub recent: Vec<BackupView>,
}

/// `/admin/settings/alerts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertsOverview {
    pub kinds: Vec<AlertKindOption>,
    /// Where every alert goes while no recipient is added (empty: none set).
    pub creator_email: String,
    pub recipients: Vec<AlertRecipientView>,
    pub chats: Vec<AlertChatView>,
    pub alerts: Vec<AlertView>,
    pub backups: BackupsOverview,
}
