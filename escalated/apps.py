from django.apps import AppConfig


class EscalatedConfig(AppConfig):
    name = "escalated"
    verbose_name = "Escalated helpdesk"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from escalated import checks  # noqa: F401  (registers the system checks)
        from escalated.services import webhooks

        # The domain does not import the API: the GraphQL layer's shaper is named here.
        webhooks.use_ticket_shaper("escalated.graphql.payloads.webhook_subject")
