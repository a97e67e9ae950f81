//! States and the words the access log is written in.

use super::text_enum;

text_enum! {
    /// Where a purchase stands. Only `Invited` and `Active` give access.
    pub enum PurchaseStatus {
        /// A checkout was opened; nothing is paid yet.
        Pending = "pending",
        /// Paid; the invitation is not out yet (queued, or refused by GitHub).
        Paid = "paid",
        Invited = "invited",
        Active = "active",
        Revoked = "revoked",
        /// The checkout ended without a payment.
        Expired = "expired",
    }
}

text_enum! {
    /// Where a purchase's access to one repository of its product stands.
    pub enum GrantStatus {
        /// To be invited: queued behind GitHub's limits, or refused (the
        /// grant's reason says which).
        Waiting = "waiting",
        Invited = "invited",
        Active = "active",
        /// Taken away (the purchase ended, or the repository left the product).
        Removed = "removed",
    }
}

impl GrantStatus {
    /// Access on GitHub is given, or its invitation is out.
    pub fn gives_access(self) -> bool {
        matches!(self, GrantStatus::Invited | GrantStatus::Active)
    }
}

/// A status change the transition table does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a purchase cannot go from {from} to {to}")]
pub struct IllegalMove {
    pub from: PurchaseStatus,
    pub to: PurchaseStatus,
}

impl PurchaseStatus {
    /// The moves a purchase may make. Staying where it is (a change that only
    /// records something, or sets columns) is always allowed.
    pub fn can_move_to(self, to: PurchaseStatus) -> bool {
        use PurchaseStatus::*;
        self == to
            || matches!(
                (self, to),
                (Pending, Paid | Expired)
                    // Granted; or closed at once (a duplicate, or taken back before the grant).
                    | (Paid, Invited | Active | Revoked)
                    | (Invited, Active | Revoked)
                    // Active but gone from GitHub: invited again.
                    | (Active, Invited | Revoked)
                    // Restored (by the creator, or by a renewed subscription).
                    | (Revoked, Paid | Invited | Active)
            )
    }

    pub fn check_move(self, to: PurchaseStatus) -> Result<(), IllegalMove> {
        if self.can_move_to(to) {
            Ok(())
        } else {
            Err(IllegalMove { from: self, to })
        }
    }

    /// The buyer can read the repository through this purchase.
    pub fn gives_access(self) -> bool {
        matches!(self, PurchaseStatus::Invited | PurchaseStatus::Active)
    }

    /// Paid for, and not (yet) taken back: access is given or on its way.
    pub fn is_granted(self) -> bool {
        matches!(self, PurchaseStatus::Paid | PurchaseStatus::Invited | PurchaseStatus::Active)
    }

    /// Money changed hands at some point (unfinished checkouts did not).
    pub fn was_paid(self) -> bool {
        !matches!(self, PurchaseStatus::Pending | PurchaseStatus::Expired)
    }
}

text_enum! {
    /// Where a purchase's access on GitHub came from. RepoPass only ever
    /// changes or removes what it made itself: a creator's own collaborator
    /// (or someone they invited) who buys keeps exactly the access they had.
    #[derive(Default)]
    pub enum AccessOrigin {
        /// RepoPass sent the invitation (or nothing has been granted yet).
        #[default]
        RepoPass = "repopass",
        /// The account was a collaborator, or had an invitation RepoPass did
        /// not send, when the purchase was granted.
        Preexisting = "preexisting",
    }
}

text_enum! {
    /// A product's page: where it is in the creator's hands.
    pub enum ProductStatus {
        Draft = "draft",
        Published = "published",
        Unpublished = "unpublished",
        Archived = "archived",
    }
}

impl ProductStatus {
    /// The moves the creator may make: publish a draft or unpublished page,
    /// unpublish a published one, archive any, and bring an archived one
    /// back unpublished.
    pub fn can_move_to(self, to: ProductStatus) -> bool {
        use ProductStatus::*;
        matches!(
            (self, to),
            (Draft | Unpublished, Published)
                | (Published | Archived, Unpublished)
                | (Draft | Published | Unpublished, Archived)
        )
    }

    /// Where the creator may take it from here, in the order the editor offers.
    pub fn moves(self) -> Vec<ProductStatus> {
        [ProductStatus::Published, ProductStatus::Unpublished, ProductStatus::Archived]
            .into_iter()
            .filter(|to| self.can_move_to(*to))
            .collect()
    }
}

text_enum! {
    /// What GitHub last told RepoPass about a repository.
    pub enum GithubState {
        Ok = "ok",
        Renamed = "renamed",
        Transferred = "transferred",
        Deleted = "deleted",
        Archived = "archived",
        Public = "public",
        /// The connection (App installation, token) cannot reach it any more.
        AccessLost = "access_lost",
    }
}

impl GithubState {
    /// RepoPass can no longer manage collaborators there.
    pub fn is_unreachable(self) -> bool {
        matches!(self, GithubState::Deleted | GithubState::AccessLost)
    }
}

text_enum! {
    /// A webhook delivery's processing.
    pub enum EventStatus {
        Received = "received",
        Processed = "processed",
        /// Nothing to do (not ours, already done, a type RepoPass does not act on).
        Ignored = "ignored",
        /// Failed; its job will try again.
        Failed = "failed",
        /// Failed for the last time.
        Dead = "dead",
    }
}

text_enum! {
    pub enum JobStatus {
        Pending = "pending",
        Running = "running",
        Done = "done",
        Dead = "dead",
    }
}

text_enum! {
    pub enum EmailStatus {
        Pending = "pending",
        Sent = "sent",
        /// No mail server configured: written to the log instead.
        Logged = "logged",
        Failed = "failed",
    }
}

text_enum! {
    /// What an email in the outbox is about.
    pub enum EmailKind {
        /// A customer's sign-in link: its body holds a live token, so once
        /// SMTP has taken it the copy in the outbox is blanked.
        SignInLink = "sign_in_link",
        InvitationExpired = "invitation_expired",
        /// "Your access is on its way": sent with the first invitation (or
        /// at once active access) after a purchase.
        AccessGranted = "access_granted",
        /// Seven days and one day before access ends on a known date.
        AccessEnding = "access_ending",
        /// Another period bought: access continues, until a later date.
        AccessExtended = "access_extended",
        /// A company purchase has more holders than seats: its managers
        /// are asked whom to remove.
        SeatsOver = "seats_over",
        /// An outgoing webhook endpoint failed for a day and was disabled:
        /// the creator is told, with what to do.
        EndpointDisabled = "endpoint_disabled",
        /// The creator's notice of a sale.
        Sale = "sale",
        /// The creator's notice of a cancellation.
        Cancellation = "cancellation",
        /// The creator's daily or weekly summary.
        Summary = "summary",
        /// An alert (`alerts`): what happened, what it affects, what to do.
        Alert = "alert",
        /// An alert's condition cleared.
        AlertResolved = "alert_resolved",
    }
}

text_enum! {
    /// What an outgoing webhook says happened (its `type`). The words are
    /// the public API: creators' tools match on them.
    pub enum WebhookEventType {
        PurchaseCreated = "purchase.created",
        PurchasePaid = "purchase.paid",
        /// Access granted: the invitation to the repository is out.
        PurchaseInvited = "purchase.invited",
        /// Access in use: every invitation accepted (or access given at once).
        PurchaseActive = "purchase.active",
        /// Access taken away; `data.purchase.status_reason_code` says why.
        PurchaseRevoked = "purchase.revoked",
        PurchaseRestored = "purchase.restored",
        PurchaseRefunded = "purchase.refunded",
        PurchaseDisputed = "purchase.disputed",
        SubscriptionRenewed = "subscription.renewed",
        /// The customer cancelled: the subscription ends at `cancel_at`.
        SubscriptionCancelled = "subscription.cancelled",
        SubscriptionPaymentFailed = "subscription.payment_failed",
        SeatAdded = "seat.added",
        SeatRemoved = "seat.removed",
        ProductPublished = "product.published",
        ProductUnpublished = "product.unpublished",
        /// An alert for the creator (`data.alert`): sent only to endpoints
        /// that tick it, never to one that takes every event.
        AlertOpened = "alert.opened",
        /// An alert's condition cleared.
        AlertResolved = "alert.resolved",
        /// Sent by the "send test event" button only.
        Test = "test",
    }
}

impl WebhookEventType {
    /// An alert for the creator rather than something a customer did.
    pub fn is_alert(self) -> bool {
        matches!(self, WebhookEventType::AlertOpened | WebhookEventType::AlertResolved)
    }
}

text_enum! {
    /// What an outgoing webhook endpoint's body looks like.
    pub enum EndpointFormat {
        /// The event as JSON, signed by the Standard Webhooks rules.
        Standard = "standard",
        /// A Slack incoming webhook: `{"text": …}`, a sentence per event.
        Slack = "slack",
        /// A Discord webhook: `{"content": …}`, likewise.
        Discord = "discord",
    }
}

text_enum! {
    /// Whether an outgoing webhook endpoint is sent to.
    pub enum EndpointStatus {
        Enabled = "enabled",
        /// Turned off by the creator, or after a day of failures.
        Disabled = "disabled",
    }
}

text_enum! {
    /// One event's delivery to one endpoint.
    pub enum DeliveryStatus {
        /// Not answered with a 2xx yet: an attempt is due, or waits its turn.
        Pending = "pending",
        Delivered = "delivered",
        /// Its attempts ran out, or its endpoint was disabled.
        Failed = "failed",
    }
}

text_enum! {
    /// Who sent a webhook.
    pub enum Provider {
        Stripe = "stripe",
        Github = "github",
    }
}

text_enum! {
    /// What reconciliation found differs between purchases and GitHub.
    pub enum DriftKind {
        PaidWithoutAccess = "paid_without_access",
        AccessWithoutPurchase = "access_without_purchase",
    }
}

text_enum! {
    /// The kind of cause an access-log entry records.
    pub enum CauseKind {
        StripeEvent = "stripe_event",
        GithubEvent = "github_event",
        Admin = "admin",
        ApiKey = "api_key",
        Customer = "customer",
        Schedule = "schedule",
        System = "system",
    }
}

text_enum! {
    /// What an access-log entry records was done.
    pub enum Action {
        CheckoutStarted = "checkout_started",
        CheckoutFailed = "checkout_failed",
        CheckoutExpired = "checkout_expired",
        Paid = "paid",
        InvitationSent = "invitation_sent",
        InvitationResent = "invitation_resent",
        InvitationExpired = "invitation_expired",
        AccessActive = "access_active",
        /// The account had access before the purchase; GitHub was left alone.
        HadAccess = "had_access",
        Revoke = "revoke",
        Restore = "restore",
        Moved = "moved",
        /// Closed as a second purchase for an account that had access.
        Duplicate = "duplicate",
        PaymentFailed = "payment_failed",
        PaymentRecovered = "payment_recovered",
        Resubscribed = "resubscribed",
        SubscriptionUpdated = "subscription_updated",
        PartialRefund = "partial_refund",
        Refund = "refund",
        RefundRequested = "refund_requested",
        DriftRemovedByHand = "drift_removed_by_hand",
        /// A repository was taken out of the product: the purchase lost it.
        RepositoryRemoved = "repository_removed",
        /// Another period of access bought before this one ended: the
        /// access passed to the newer purchase, its end moved on.
        Renewed = "renewed",
        /// A company purchase was paid: its seats are there to hand out.
        SeatsReady = "seats_ready",
        /// A manager gave a seat of a company purchase to a holder (the
        /// holder's seat records it; the company purchase too).
        SeatGiven = "seat_given",
        /// A manager took a seat back: the holder's access is removed.
        SeatTakenBack = "seat_taken_back",
        /// The number of seats changed (now, or from the next renewal).
        SeatsChanged = "seats_changed",
        /// More holders than seats after a renewal: the managers are asked
        /// whom to remove (nobody is removed until they choose).
        SeatsOver = "seats_over",
        /// A manager appointed another manager of a company purchase.
        ManagerAppointed = "manager_appointed",
        /// Demo data's last step (`repopass seed`).
        Synced = "synced",
    }
}

impl Action {
    /// What a customer's "resend invitation" (or the grant it falls back
    /// to) records: counted against the daily resend limit.
    pub const RESENDS: [Action; 3] = [Action::InvitationResent, Action::InvitationSent, Action::AccessActive];
}

#[cfg(test)]
mod tests {
    use super::PurchaseStatus::{self, *};

    #[test]
    fn the_purchase_moves_are_exactly_these() {
        let allowed = [
            (Pending, Paid),
            (Pending, Expired),
            (Paid, Invited),
            (Paid, Active),
            (Paid, Revoked),
            (Invited, Active),
            (Invited, Revoked),
            (Active, Invited),
            (Active, Revoked),
            (Revoked, Paid),
            (Revoked, Invited),
            (Revoked, Active),
        ];
        for from in PurchaseStatus::ALL {
            for to in PurchaseStatus::ALL {
                let expected = from == to || allowed.contains(&(*from, *to));
                assert_eq!(from.can_move_to(*to), expected, "{from} → {to}");
            }
        }
        // What matters most: an unpaid checkout never gives access, and an
        // expired one never comes back.
        assert!(!Pending.can_move_to(Invited) && !Pending.can_move_to(Active));
        assert!(PurchaseStatus::ALL.iter().all(|to| *to == Expired || !Expired.can_move_to(*to)));
        assert_eq!(Pending.check_move(Active).unwrap_err().to_string(), "a purchase cannot go from pending to active");
    }

    #[test]
    fn repository_moves() {
        use super::ProductStatus::*;
        assert_eq!(Draft.moves(), [Published, Archived]);
        assert_eq!(Published.moves(), [Unpublished, Archived]);
        assert_eq!(Unpublished.moves(), [Published, Archived]);
        assert_eq!(Archived.moves(), [Unpublished]);
    }
}
