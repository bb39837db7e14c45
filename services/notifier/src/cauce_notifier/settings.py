from cauce_runtime.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    service_name: str = "notifier"
    port: int = 8084
    sandbox_url: str = "http://127.0.0.1:8090"
