from pydantic import SecretStr

from cauce_runtime.settings import ServiceSettings


class CrmSyncSettings(ServiceSettings):
    service_name: str = "crm-sync"
    port: int = 8083
    #: PostgreSQL DSN; the password, if any, belongs in the secrets dir.
    postgres_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:55432/cauce")
