-- Why a purchase is where it is, as a code beside the human message:
-- decisions (restore on renewal, offer a resend, the customer's wording)
-- read the code, so rewording a message changes nothing but the words.
-- The codes are the `Reason` enum's (server/src/domain/reason.rs).
ALTER TABLE purchases ADD COLUMN status_reason_code TEXT;

-- Existing messages, as the code that wrote them worded them.
UPDATE purchases SET status_reason_code = CASE
    WHEN status_reason LIKE 'payment failed%' THEN 'payment_failed'
    WHEN status_reason = 'the payment failed' THEN 'checkout_payment_failed'
    WHEN status_reason LIKE 'subscription ended%' THEN 'subscription_ended'
    WHEN status_reason LIKE 'refunded%' THEN 'refunded'
    WHEN status_reason LIKE 'disputed%' THEN 'disputed'
    WHEN status_reason LIKE 'invitation expired%' THEN 'invitation_expired'
    WHEN status_reason LIKE 'queued: GitHub''s daily invitation limit%' THEN 'queued_invite_limit'
    WHEN status_reason LIKE 'queued%' THEN 'queued_rate_limit'
    WHEN status_reason LIKE 'not invited%' AND (status_reason LIKE '%not installed%' OR status_reason LIKE '%not configured%') THEN 'github_not_connected'
    WHEN status_reason LIKE 'not invited%' THEN 'github_user_gone'
    WHEN status_reason LIKE '%already had access through an earlier purchase%' THEN 'duplicate_purchase'
    WHEN status = 'revoked' THEN 'revoked_by_creator'
    ELSE NULL
END
WHERE status_reason IS NOT NULL;
