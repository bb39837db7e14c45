"""Everything the vehicle-tax assistant says, in es-CO, overridable per deployment.

:class:`VehicleTaxCopy` holds every customer-facing text with Colombian Spanish
defaults (``usted``, as a tax office writes). A deployment overrides any of them::

    VehicleTaxCopy(greeting="¡Hola! Soy Tributo, de la Gobernación...")

Templates use named placeholders (``{placa}``, ``{total}``...). Each text may use only
the placeholders listed for it in ``PLACEHOLDERS``; anything else (a typo, a stray
brace) fails when the copy is built, not in the middle of a conversation. Write a
literal brace as ``{{`` / ``}}``. Fixed button labels are checked against WhatsApp's
20-character limit here; templated labels (``Pagar {total}``) fall back to
``button_pay_short`` when a rendered label would be too long.
"""

from __future__ import annotations

from string import Formatter
from typing import Annotated, ClassVar, Self

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from cauce_contracts.outbound import ButtonTitle, ListRowTitle, ListSectionTitle

Text = Annotated[str, StringConstraints(min_length=1, max_length=4096)]

_DEBT_FIELDS = frozenset({"vigencia", "impuesto", "sancion", "interes", "total", "fecha_limite"})
_PAYMENT_FIELDS = frozenset({"total", "placa", "reference"})


def _placeholders(template: str) -> set[str]:
    names: set[str] = set()
    for _, name, spec, conversion in Formatter().parse(template):
        if name is None:
            continue
        if name == "" or not name.isidentifier() or spec or conversion:
            raise ValueError(f"use plain named placeholders like {{placa}}, got {template!r}")
        names.add(name)
    return names


class _Texts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The placeholders each field may use (fields not listed take none).
    PLACEHOLDERS: ClassVar[dict[str, frozenset[str]]] = {}

    @model_validator(mode="after")
    def _known_placeholders(self) -> Self:
        for name in type(self).model_fields:
            value = getattr(self, name)
            if not isinstance(value, str):
                continue
            allowed = self.PLACEHOLDERS.get(name, frozenset())
            unknown = _placeholders(value) - allowed
            if unknown:
                raise ValueError(
                    f"{name}: unknown placeholder(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
                )
        return self


class MediaCopy(_Texts):
    """What we say when the customer sends something that is not text."""

    image: Text = "No puedo ver imágenes ni fotos 📷."
    audio: Text = "No puedo escuchar audios 🎧."
    video: Text = "No puedo ver videos 🎬."
    document: Text = "No puedo abrir documentos 📄."
    sticker: Text = "¡Lindo sticker! 😄"
    location: Text = "Gracias por la ubicación 📍, pero no la necesito para consultar el impuesto."
    contacts: Text = "Recibí un contacto, pero no lo necesito para consultar el impuesto."
    order: Text = "Por este chat no puedo tomar pedidos."
    other: Text = "No puedo leer ese tipo de mensaje."


class VehicleTaxCopy(_Texts):
    """Customer-facing texts of the vehicle-tax flow (es-CO defaults)."""

    PLACEHOLDERS: ClassVar[dict[str, frozenset[str]]] = {
        "greeting_lookup": frozenset({"placa"}),
        "looking_up": frozenset({"placa"}),
        "lookup_delayed": frozenset({"placa"}),
        "lookup_failed": frozenset({"placa"}),
        "debt_not_found": frozenset({"placa"}),
        "debt_header": frozenset({"placa", "count"}),
        "debt_block": _DEBT_FIELDS,
        "debt_line": _DEBT_FIELDS,
        "debt_grand_total": frozenset({"total"}),
        "debt_more": frozenset({"count"}),
        "choose_one": frozenset({"placa", "vigencia", "total"}),
        "choose_several": frozenset({"placa", "count", "total"}),
        "choose_list": frozenset({"example"}),
        "list_row_title": frozenset({"vigencia"}),
        "list_row_description": frozenset({"total", "fecha_limite"}),
        "button_pay_amount": frozenset({"total"}),
        "button_pay_vigencia": frozenset({"vigencia"}),
        "generating_link": frozenset({"placa", "total"}),
        "items_capped": frozenset({"count"}),
        "link_ready": _PAYMENT_FIELDS,
        "payment_reminder": _PAYMENT_FIELDS,
        "payment_confirmed": _PAYMENT_FIELDS,
        "payment_rejected": _PAYMENT_FIELDS,
        "payment_expired": _PAYMENT_FIELDS,
    }

    # --- greeting and plate -----------------------------------------------------------
    greeting: Text = (
        "¡Hola! 👋 Soy el asistente virtual del impuesto vehicular de Santander (SCI). "
        "Le ayudo a consultar la deuda de su vehículo y a pagarla en línea.\n\n"
        "Escríbame la *placa* del vehículo, por ejemplo *ABC123* (carro) o *ABC12D* (moto)."
    )
    greeting_lookup: Text = (
        "¡Hola! 👋 Soy el asistente virtual del impuesto vehicular de Santander (SCI). "
        "Ya consulto la deuda de la placa *{placa}*… ⏳"
    )
    ask_plate: Text = (
        "Claro. Escríbame la *placa* del vehículo, por ejemplo *ABC123* (carro) o *ABC12D* (moto)."
    )
    plate_hint: Text = (
        "No reconozco una placa en su mensaje 🤔. Escríbala así: *ABC123* para carros "
        "o *ABC12D* para motos (tres letras, dos números y un número o una letra)."
    )

    # --- lookup -----------------------------------------------------------------------
    looking_up: Text = "Consultando la placa *{placa}* en SCI… ⏳ Un momento, por favor."
    still_looking_up: Text = "Sigo consultando, un momento por favor ⏳."
    lookup_delayed: Text = (
        "El sistema de SCI no está respondiendo en este momento 😕. Seguimos intentando "
        "y le escribo apenas tengamos la información de la placa *{placa}*."
    )
    lookup_failed: Text = (
        "Lo siento 😔, no pudimos consultar la placa *{placa}* porque el sistema de SCI "
        "no está disponible. Por favor intente de nuevo en unos minutos."
    )
    debt_not_found: Text = (
        "✅ No encontramos deudas del impuesto vehicular para la placa *{placa}*.\n\n"
        "Si desea consultar otra placa, escríbala aquí."
    )

    # --- debt and choice --------------------------------------------------------------
    debt_header: Text = "🚗 Placa *{placa}*: impuesto vehicular pendiente"
    debt_block: Text = (
        "*Vigencia {vigencia}*\n"
        "Impuesto: {impuesto}\n"
        "Sanción: {sancion}\n"
        "Interés: {interes}\n"
        "Total: *{total}*\n"
        "Fecha límite: {fecha_limite}"
    )
    #: One line per vigencia, used when the full blocks do not fit one message.
    debt_line: Text = "• {vigencia}: *{total}* (fecha límite {fecha_limite})"
    debt_grand_total: Text = "*Total a pagar: {total}*"
    debt_more: Text = "…y {count} vigencias más."
    choose_one: Text = "¿Desea pagar la vigencia {vigencia} por *{total}*?"
    choose_several: Text = (
        "¿Qué desea pagar? Puede pagar todo (*{total}*) o una vigencia. "
        "También puede escribir el año."
    )
    choose_list: Text = (
        "Elija la vigencia que desea pagar. También puede escribir el año (por ejemplo {example})."
    )
    choice_unclear: Text = (
        "No le entendí 🙏. Toque una de las opciones o escriba *todo* o el año que desea pagar."
    )
    option_unavailable: Text = "Esa opción ya no está disponible. Estas son las opciones actuales:"
    list_button: ButtonTitle = "Ver vigencias"
    list_section: ListSectionTitle = "Vigencias"
    list_row_title: ListRowTitle = "Vigencia {vigencia}"
    list_row_description: Text = "{total} · fecha límite {fecha_limite}"

    # --- buttons ----------------------------------------------------------------------
    button_pay_amount: Text = "Pagar {total}"
    button_pay_short: ButtonTitle = "Pagar"
    button_pay_all: ButtonTitle = "Pagar todo"
    button_pay_vigencia: Text = "Pagar {vigencia}"
    button_choose: ButtonTitle = "Elegir vigencia"
    button_other_plate: ButtonTitle = "Otra placa"
    button_agent: ButtonTitle = "Hablar con asesor"
    button_retry: ButtonTitle = "Reintentar"
    button_retry_payment: ButtonTitle = "Reintentar pago"

    # --- payment link -----------------------------------------------------------------
    generating_link: Text = "Generando su enlace de pago por *{total}*… ⏳"
    still_generating: Text = "Sigo generando su enlace de pago, un momento por favor ⏳."
    items_capped: Text = (
        "Un enlace puede pagar hasta {count} vigencias: este incluye las {count} más antiguas."
    )
    link_delayed: Text = (
        "El sistema de pagos de SCI no está respondiendo 😕. Seguimos intentando "
        "y le envío el enlace apenas esté listo."
    )
    link_failed: Text = (
        "Lo siento 😔, no pudimos generar su enlace de pago en este momento. "
        "Por favor intente de nuevo en unos minutos."
    )
    link_ready: Text = (
        "Listo ✅ Este es su enlace para pagar *{total}* de la placa *{placa}*.\n"
        "Referencia de pago: {reference}\n\n"
        "Toque *Pagar ahora* para pagar en línea. Le confirmo por aquí cuando el pago "
        "se acredite."
    )
    cta_display_text: ButtonTitle = "Pagar ahora"
    payment_reminder: Text = (
        "Su enlace para pagar *{total}* de la placa *{placa}* sigue disponible "
        "(referencia {reference}). Cuando el pago se confirme, le aviso por aquí."
    )
    payment_check: Text = (
        "¡Gracias! Apenas la pasarela confirme su pago le aviso por aquí. "
        "Suele tardar unos minutos."
    )
    payment_confirmed: Text = (
        "¡Pago confirmado! ✅ Recibimos su pago de *{total}* para la placa *{placa}* "
        "(referencia {reference}). ¡Gracias por ponerse al día!\n\n"
        "Si desea consultar otra placa, escríbala aquí."
    )
    payment_rejected: Text = (
        "Su pago de *{total}* para la placa *{placa}* no fue aprobado 😕. "
        "Puede intentarlo de nuevo o hablar con un asesor."
    )
    payment_expired: Text = (
        "Su enlace de pago de *{total}* para la placa *{placa}* venció ⌛. "
        "Puede generarlo de nuevo o hablar con un asesor."
    )

    # --- handover, restarts, odds and ends --------------------------------------------
    handover: Text = (
        "Listo 👤 Un asesor le escribirá muy pronto por este mismo chat. "
        "Mientras tanto, el asistente automático queda en pausa."
    )
    stale_choice: Text = "Ese botón es de un mensaje anterior."
    welcome: Text = "¡Con gusto! 😊 Si necesita algo más, escríbame una placa o *menú*."

    # --- what to do next, appended to media answers and stale buttons -----------------
    hint_plate: Text = (
        "Escríbame la placa del vehículo, por ejemplo *ABC123* (carro) o *ABC12D* (moto)."
    )
    hint_choice: Text = "Toque una de las opciones o escriba *todo* o el año que desea pagar."
    hint_payment: Text = (
        "Su enlace de pago sigue disponible arriba 👆. Cuando pague, le confirmo por aquí."
    )
    hint_retry: Text = "Toque *Reintentar* o escriba *asesor* para hablar con una persona."

    media: MediaCopy = MediaCopy()
