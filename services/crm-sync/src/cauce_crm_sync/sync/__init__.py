"""Keeping Odoo in step with PostgreSQL: the sync worker and the reconciliation."""
