"""The transactional outbox: events written with the change, delivered by the worker."""
