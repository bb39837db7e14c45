from cauce_runtime.settings import ServiceSettings


class PaymentsSettings(ServiceSettings):
    service_name: str = "payments"
    port: int = 8082
