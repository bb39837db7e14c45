"""The vehicle-tax assistant: look up a vehicle's tax debt in SCI TOTAL and pay it."""

from cauce_conversation.flows.vehicle_tax.copy import MediaCopy, VehicleTaxCopy
from cauce_conversation.flows.vehicle_tax.flow import HANDOVER_REASON, VehicleTaxFlow
from cauce_conversation.flows.vehicle_tax.leads import LeadState
from cauce_conversation.flows.vehicle_tax.links import request_key
from cauce_conversation.flows.vehicle_tax.money import format_fecha, format_pesos
from cauce_conversation.flows.vehicle_tax.plates import find_plate, is_plate, normalize_plate
from cauce_conversation.flows.vehicle_tax.steps import Step

__all__ = [
    "HANDOVER_REASON",
    "LeadState",
    "MediaCopy",
    "Step",
    "VehicleTaxCopy",
    "VehicleTaxFlow",
    "find_plate",
    "format_fecha",
    "format_pesos",
    "is_plate",
    "normalize_plate",
    "request_key",
]
