"""Full-text search indexes for the ticket queue, on PostgreSQL only (escalated.search).

Not part of the models' state: SQLite has no GIN indexes (it searches by substring), and an
index in the state would be rebuilt on SQLite whenever a later migration remakes the table.
"""

from django.db import migrations

from escalated import search


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.add_index(apps.get_model("escalated", "Ticket"), search.ticket_index())
    schema_editor.add_index(apps.get_model("escalated", "Reply"), search.reply_index())


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.remove_index(apps.get_model("escalated", "Ticket"), search.ticket_index())
    schema_editor.remove_index(apps.get_model("escalated", "Reply"), search.reply_index())


class Migration(migrations.Migration):
    dependencies = [
        ("escalated", "0012_settings_store"),
    ]

    operations = [migrations.RunPython(create, drop)]
