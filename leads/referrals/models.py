"""Models of the branch side of referrals; the Referral itself is leads.models.Referral."""
