"""Markets: countries, currencies, locales and rollout gates."""
