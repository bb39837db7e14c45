from cauce_runtime.settings import ServiceSettings


class ConversationSettings(ServiceSettings):
    service_name: str = "conversation"
    port: int = 8081
    mongodb_url: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    mongodb_database: str = "cauce"
