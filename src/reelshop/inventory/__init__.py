"""Inventory: stock per SKU and location, adjustments, reservations."""
