from cauce_runtime.settings import ServiceSettings


class PaymentsSettings(ServiceSettings):
    service_name: str = "payments"
    port: int = 8082
    sandbox_url: str = "http://127.0.0.1:8090"
