from cauce_runtime.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    service_name: str = "notifier"
    port: int = 8084
