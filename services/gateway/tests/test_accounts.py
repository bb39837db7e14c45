import re
from typing import Any

import pytest
from pydantic import ValidationError

from cauce_contracts.subjects import Channel
from cauce_gateway.accounts import AccountDirectory
from cauce_gateway.settings import ChannelAccount, GatewaySettings


def test_phone_number_accounts_match_however_they_are_written() -> None:
    settings = GatewaySettings(
        environment="test",
        ycloud_accounts=[ChannelAccount(account_id="+57 310 555-0100", tenant_id="acme")],
        whatsapp_accounts=[ChannelAccount(account_id="734053143122597", tenant_id="globex")],
    )
    accounts = AccountDirectory.from_settings(settings)
    assert accounts.tenant_for(Channel.YCLOUD, "573105550100") == "acme"
    assert accounts.tenant_for(Channel.YCLOUD, "+573105550100") == "acme"
    assert accounts.tenant_for(Channel.WHATSAPP, "734053143122597") == "globex"
    assert accounts.tenant_for(Channel.WHATSAPP, "573105550100") is None
    assert accounts.tenant_for(Channel.CHATTIGO, "734053143122597") is None


def test_a_waba_reaches_the_tenant_of_the_numbers_that_name_it() -> None:
    settings = GatewaySettings(
        environment="test",
        whatsapp_accounts=[
            ChannelAccount(
                account_id="734053143122597", tenant_id="acme", business_account_id="1318"
            ),
            ChannelAccount(
                account_id="734053143122598", tenant_id="acme", business_account_id="1318"
            ),
            ChannelAccount(account_id="734053143122599", tenant_id="globex"),
        ],
    )
    accounts = AccountDirectory.from_settings(settings)
    assert accounts.business_tenant_for(Channel.WHATSAPP, "1318") == "acme"
    assert accounts.business_tenant_for(Channel.WHATSAPP, "734053143122599") is None
    assert accounts.business_tenant_for(Channel.YCLOUD, "1318") is None
    assert accounts.tenant_for(Channel.WHATSAPP, "734053143122598") == "acme"


def test_business_account_id_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "CAUCE_WHATSAPP_ACCOUNTS",
        '[{"account_id": "100000000000001", "tenant_id": "demo",'
        ' "business_account_id": "200000000000001"}]',
    )
    accounts = AccountDirectory.from_settings(GatewaySettings(environment="test"))
    assert accounts.business_tenant_for(Channel.WHATSAPP, "200000000000001") == "demo"


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        (
            {
                "whatsapp_accounts": [
                    {"account_id": "1", "tenant_id": "acme", "business_account_id": "9"},
                    {"account_id": "2", "tenant_id": "globex", "business_account_id": "9"},
                ]
            },
            "business account 9 is named by accounts of two tenants (acme, globex)",
        ),
        (
            {
                "ycloud_accounts": [
                    {"account_id": "+573105550100", "tenant_id": "acme", "business_account_id": "9"}
                ]
            },
            "business_account_id applies to whatsapp_accounts, not ycloud_accounts",
        ),
        (
            {
                "whatsapp_accounts": [
                    {"account_id": "1", "tenant_id": "acme", "business_account_id": "waba.9"}
                ]
            },
            "String should match pattern",
        ),
    ],
)
def test_ambiguous_or_misplaced_business_accounts_are_refused(
    values: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(problem)):
        GatewaySettings(environment="test", **values)
