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
