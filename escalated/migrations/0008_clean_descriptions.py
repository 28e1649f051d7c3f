"""Ticket descriptions are now HTML cleaned like reply bodies and shown as such: clean the ones
stored before, which were kept as typed (and shown escaped)."""

from django.db import migrations

from escalated.services.text import clean_html


def clean_descriptions(apps, schema_editor):
    Ticket = apps.get_model("escalated", "Ticket")
    changed = []
    for ticket in Ticket.objects.exclude(description="").only("pk", "description").iterator():
        cleaned = clean_html(ticket.description)
        if cleaned != ticket.description:
            ticket.description = cleaned
            changed.append(ticket)
    Ticket.objects.bulk_update(changed, ["description"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("escalated", "0007_escalation_rules")]

    operations = [migrations.RunPython(clean_descriptions, migrations.RunPython.noop)]
