from django.apps import AppConfig
from django.core.signals import request_finished, request_started


class EscalatedConfig(AppConfig):
    name = "escalated"
    verbose_name = "Escalated helpdesk"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from escalated import checks
        from escalated.hosted import push
        from escalated.hub import callbacks
        from escalated.models import DeliveryKind
        from escalated.services import notifications, outbox, webhooks

        # The domain does not import the API: the GraphQL layer's shaper is named here.
        webhooks.use_ticket_shaper("escalated.graphql.payloads.webhook_subject")
        # The doors that hear of every event through the outbox: the synced push to the hub,
        # and the hub's changes sent back to sites. Each writes rows only in its own mode.
        outbox.register_channel(DeliveryKind.HUB, "escalated.hosted.push.HUB")
        outbox.register_channel(DeliveryKind.SITE, "escalated.hub.callbacks.SITE")
        notifications.register_rows(push.hub_rows)
        notifications.register_rows(callbacks.site_rows)
        # The background sender waits for the process to be between requests (see there).
        request_started.connect(outbox.background.request_started, dispatch_uid="escalated.outbox")
        request_finished.connect(
            outbox.background.request_finished, dispatch_uid="escalated.outbox"
        )
        # A server that never runs manage.py (uvicorn, gunicorn, celery) stops here too.
        checks.stop_on_errors(checks.AT_LOAD)
