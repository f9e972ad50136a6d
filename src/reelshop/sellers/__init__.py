"""Sellers: applications, vetting, seller profiles, performance score."""
