from django.apps import AppConfig


class EscalatedConfig(AppConfig):
    name = "escalated"
    verbose_name = "Escalated helpdesk"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from escalated import checks
        from escalated.services import webhooks

        # The domain does not import the API: the GraphQL layer's shaper is named here.
        webhooks.use_ticket_shaper("escalated.graphql.payloads.webhook_subject")
        # A server that never runs manage.py (uvicorn, gunicorn, celery) stops here too.
        checks.stop_on_errors(checks.AT_LOAD)
