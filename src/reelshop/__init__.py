"""reelshop: an open-source social-commerce platform — short videos that sell."""

__version__ = "0.1.0"
