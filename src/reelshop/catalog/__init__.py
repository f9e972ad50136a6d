"""Catalog: products, variants (SKUs), categories, brands, images, search."""
