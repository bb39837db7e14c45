"""Who owns what on the Graph fake, as on Meta: a business portfolio owns WhatsApp
Business Accounts (WABAs), a WABA owns business phone numbers and message templates.

Configured by ``CAUCE_SANDBOX_WABA_ID`` (the WABA of every number not named in
``CAUCE_SANDBOX_PHONE_NUMBER_WABAS``) and ``CAUCE_SANDBOX_BUSINESS_ID`` (the portfolio of
every WABA not named in ``CAUCE_SANDBOX_WABA_BUSINESSES``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cauce_devstack.sandbox.meta.templates import TemplateStore

if TYPE_CHECKING:
    from cauce_devstack.sandbox.settings import SandboxSettings


def waba_of(settings: SandboxSettings, phone_number_id: str) -> str:
    """The WABA a business phone number belongs to."""
    return settings.phone_number_wabas.get(phone_number_id, settings.waba_id)


def waba_ids(settings: SandboxSettings) -> list[str]:
    """Every WABA the sandbox knows, the default one first."""
    known = [settings.waba_id]
    for waba_id in (*settings.phone_number_wabas.values(), *settings.graph_waba_templates):
        if waba_id not in known:
            known.append(waba_id)
    return known


def phone_numbers_of(settings: SandboxSettings, waba_id: str) -> list[str]:
    """The business numbers (with a Graph token) a WABA owns."""
    numbers = [settings.default_phone_number_id, *settings.graph_tokens]
    return [
        number
        for index, number in enumerate(numbers)
        if number not in numbers[:index] and waba_of(settings, number) == waba_id
    ]


def business_of(settings: SandboxSettings, waba_id: str) -> str:
    """The business portfolio a WABA belongs to."""
    return settings.waba_businesses.get(waba_id, settings.business_id)


def wabas_of_business(settings: SandboxSettings, business_id: str) -> list[str]:
    return [waba for waba in waba_ids(settings) if business_of(settings, waba) == business_id]


def business_ids(settings: SandboxSettings) -> list[str]:
    known: list[str] = []
    for waba_id in waba_ids(settings):
        business = business_of(settings, waba_id)
        if business not in known:
            known.append(business)
    return known


def display_number(settings: SandboxSettings, phone_number_id: str) -> str:
    """A number's display phone number (the default number's is configured; any other
    number shows its id, as the phone-number node does)."""
    if phone_number_id == settings.default_phone_number_id:
        return settings.default_display_phone_number
    return phone_number_id


def template_store(settings: SandboxSettings) -> TemplateStore:
    """Each WABA's templates: ``graph_templates`` for the default WABA (unless
    ``graph_waba_templates`` names it), ``graph_waba_templates`` for the others."""
    templates = {
        waba_id: settings.graph_waba_templates.get(
            waba_id, settings.graph_templates if waba_id == settings.waba_id else []
        )
        for waba_id in waba_ids(settings)
    }
    return TemplateStore(templates)
