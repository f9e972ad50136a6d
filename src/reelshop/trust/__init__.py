"""Trust and safety: brand registry, counterfeit risk, moderation, reviews, reports and buyer
protection claims."""
