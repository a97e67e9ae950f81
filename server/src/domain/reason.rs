//! Why a purchase is where it is: stored as a code beside the human
//! message (`purchases.status_reason_code` next to `status_reason`). What
//! RepoPass does next — restore access on renewal, offer a resend, choose
//! the customer's words — reads the code; the message is only shown.

use super::text_enum;

text_enum! {
    pub enum Reason {
        /// A renewal was not paid within the grace period.
        PaymentFailed = "payment_failed",
        /// The checkout's delayed payment (a bank debit) failed.
        CheckoutPaymentFailed = "checkout_payment_failed",
        /// The subscription was cancelled or expired in Stripe.
        SubscriptionEnded = "subscription_ended",
        Refunded = "refunded",
        Disputed = "disputed",
        /// The creator (in the admin panel or over the API) took access away.
        RevokedByCreator = "revoked_by_creator",
        /// A second purchase for an account that already had access: closed and refunded.
        DuplicatePurchase = "duplicate_purchase",
        /// GitHub's invitation expired unaccepted.
        InvitationExpired = "invitation_expired",
        /// Waiting for GitHub's daily limit of invitations per repository.
        QueuedInviteLimit = "queued_invite_limit",
        /// Waiting for GitHub's daily limit of organisation invitations
        /// (team access: a holder who is not a member yet is invited to it).
        QueuedOrgInviteLimit = "queued_org_invite_limit",
        /// Waiting for GitHub's API rate limit.
        QueuedRateLimit = "queued_rate_limit",
        /// Not invited: the buyer's GitHub account no longer exists.
        GithubUserGone = "github_user_gone",
        /// Not invited: the repository is gone, or RepoPass cannot reach it.
        RepositoryGone = "repository_gone",
        /// Not invited: GitHub is not connected (or the App not installed there).
        GithubNotConnected = "github_not_connected",
        /// A one-time price's period of access ran out.
        AccessPeriodEnded = "access_period_ended",
        /// Another period was bought before this one ended: access
        /// continues through the newer purchase.
        Renewed = "renewed",
        /// A manager of the company purchase took this seat back.
        SeatTakenBack = "seat_taken_back",
        /// The team purchase this seat belongs to ended (its own reason is
        /// in the message); the seat comes back with it.
        TeamEnded = "team_ended",
    }
}

impl Reason {
    /// Ended by billing: a renewed or recovered subscription gives access back.
    pub fn ended_by_billing(self) -> bool {
        matches!(self, Reason::PaymentFailed | Reason::SubscriptionEnded)
    }

    /// The invitation waits for one of GitHub's limits.
    pub fn is_queued(self) -> bool {
        matches!(self, Reason::QueuedInviteLimit | Reason::QueuedOrgInviteLimit | Reason::QueuedRateLimit)
    }

    /// Paid, but GitHub refused the invitation for good: the customer may
    /// try again (after fixing their account) with "resend".
    pub fn not_invited(self) -> bool {
        matches!(self, Reason::GithubUserGone | Reason::RepositoryGone | Reason::GithubNotConnected)
    }
}

#[cfg(test)]
mod tests {
    use super::Reason;

    #[test]
    fn only_billing_reasons_come_back_with_a_renewal() {
        let back: Vec<Reason> = Reason::ALL.iter().copied().filter(|r| r.ended_by_billing()).collect();
        assert_eq!(back, [Reason::PaymentFailed, Reason::SubscriptionEnded]);
    }
}
