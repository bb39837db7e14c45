"""Odoo, as crm-sync sees it: one protocol (:class:`OdooApi`), two API styles
(:class:`JsonRpcOdoo`, :class:`Json2Odoo`, picked by :func:`connect_odoo`), one
exception tree."""

from cauce_crm_sync.odoo.api import Domain, OdooApi, Throttle, Vals
from cauce_crm_sync.odoo.connect import connect_odoo
from cauce_crm_sync.odoo.errors import (
    OdooCredentialsRejected,
    OdooError,
    OdooOutcomeUnknown,
    OdooRejected,
    OdooUnavailable,
)
from cauce_crm_sync.odoo.json2 import Json2Odoo
from cauce_crm_sync.odoo.jsonrpc import JsonRpcOdoo

__all__ = [
    "Domain",
    "Json2Odoo",
    "JsonRpcOdoo",
    "OdooApi",
    "OdooCredentialsRejected",
    "OdooError",
    "OdooOutcomeUnknown",
    "OdooRejected",
    "OdooUnavailable",
    "Throttle",
    "Vals",
    "connect_odoo",
]
