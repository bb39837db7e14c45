"""Which company is calling the campaign and template APIs: the one in the caller's
access token (``cauce_runtime.identity``), never a parameter the caller chooses.

Reading campaigns needs ``campaigns.read``, changing them ``campaigns.manage``,
reading templates ``templates.read``. Another company's campaign is a 404 exactly like
a missing one (the stores look campaigns up by company and id).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from cauce_contracts.identity import Permission
from cauce_runtime.identity import Caller, require


async def reading_campaigns(
    caller: Annotated[Caller, Depends(require(Permission.CAMPAIGNS_READ))],
) -> str:
    return caller.company_id


async def managing_campaigns(
    caller: Annotated[Caller, Depends(require(Permission.CAMPAIGNS_MANAGE))],
) -> str:
    return caller.company_id


async def reading_templates(
    caller: Annotated[Caller, Depends(require(Permission.TEMPLATES_READ))],
) -> str:
    return caller.company_id


#: The caller's company, when it may read campaigns.
TenantReader = Annotated[str, Depends(reading_campaigns)]
#: The caller's company, when it may create, change, start or stop campaigns.
TenantDep = Annotated[str, Depends(managing_campaigns)]
#: The caller's company, when it may read templates.
TemplateReader = Annotated[str, Depends(reading_templates)]
