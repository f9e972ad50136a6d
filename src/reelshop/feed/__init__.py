"""The For You feed: shoppable videos, product tags, interaction events and the recommender."""
