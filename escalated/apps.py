from django.apps import AppConfig


class EscalatedConfig(AppConfig):
    name = "escalated"
    verbose_name = "Escalated helpdesk"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from escalated import checks  # noqa: F401  (registers the system checks)
