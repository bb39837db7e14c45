"""Odoo, as crm-sync sees it: one protocol (:class:`OdooApi`), two API styles, one
exception tree."""

from cauce_crm_sync.odoo.api import Domain, OdooApi, Throttle, Vals
from cauce_crm_sync.odoo.errors import (
    OdooCredentialsRejected,
    OdooError,
    OdooRejected,
    OdooUnavailable,
)

__all__ = [
    "Domain",
    "OdooApi",
    "OdooCredentialsRejected",
    "OdooError",
    "OdooRejected",
    "OdooUnavailable",
    "Throttle",
    "Vals",
]
