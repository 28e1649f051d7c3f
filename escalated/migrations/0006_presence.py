import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from escalated.conf import table_name


class Migration(migrations.Migration):

    dependencies = [
        ('escalated', '0005_sla'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='TicketPresence',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('state', models.CharField(choices=[('viewing', 'Viewing'), ('typing', 'Typing')], max_length=16, verbose_name='state')),
                ('updated_at', models.DateTimeField(verbose_name='updated')),
                ('expires_at', models.DateTimeField(db_index=True, verbose_name='expires')),
                ('ticket', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='presences', to='escalated.ticket', verbose_name='ticket')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'ticket presence',
                'verbose_name_plural': 'ticket presence',
                'db_table': table_name("ticket_presence"),
                'constraints': [models.UniqueConstraint(fields=('ticket', 'user'), name='esc_presence_unique')],
            },
        ),
    ]
