"""catalog operations: look up images by storage key, list a seller's products by change

Revision ID: 0004_catalog_ops
Revises: 0002_catalog_inventory
Create Date: 2026-11-25 00:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_catalog_ops"
down_revision: str | None = "0002_catalog_inventory"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("product_images", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_images_storage_key"), ["storage_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_product_images_thumb_key"), ["thumb_key"], unique=False
        )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(
            "ix_products_seller_updated", ["seller_id", "updated_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_seller_updated")
    with op.batch_alter_table("product_images", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_images_thumb_key"))
        batch_op.drop_index(batch_op.f("ix_product_images_storage_key"))
