
import django.core.serializers.json
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from escalated.conf import table_name


class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('escalated', '0002_portal'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AgentProfile',
            fields=[
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='escalated_agent_profile', serialize=False, to=settings.AUTH_USER_MODEL, verbose_name='agent')),
                ('availability', models.CharField(choices=[('available', 'Available'), ('away', 'Away')], default='available', help_text='Away agents get no new tickets from auto-assignment.', max_length=16, verbose_name='availability')),
                ('availability_changed_at', models.DateTimeField(null=True, verbose_name='availability changed')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
            ],
            options={
                'verbose_name': 'agent profile',
                'verbose_name_plural': 'agent profiles',
                'db_table': table_name("agent_profiles"),
            },
        ),
        migrations.CreateModel(
            name='Macro',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=200, verbose_name='name')),
                ('description', models.TextField(blank=True, default='', verbose_name='description')),
                ('actions', models.JSONField(default=list, encoder=django.core.serializers.json.DjangoJSONEncoder, verbose_name='actions')),
                ('is_shared', models.BooleanField(default=True, verbose_name='shared')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
            ],
            options={
                'verbose_name': 'macro',
                'verbose_name_plural': 'macros',
                'db_table': table_name("macros"),
                'ordering': ['name', 'id'],
            },
        ),
        migrations.CreateModel(
            name='RoutingCursor',
            fields=[
                ('department', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='escalated.department', verbose_name='department')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
            ],
            options={
                'verbose_name': 'routing cursor',
                'verbose_name_plural': 'routing cursors',
                'db_table': table_name("routing_cursors"),
            },
        ),
        migrations.CreateModel(
            name='SatisfactionRating',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('rating', models.PositiveSmallIntegerField(help_text='1 (poor) to 5 (great).', verbose_name='rating')),
                ('comment', models.TextField(blank=True, default='', verbose_name='comment')),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='rated')),
            ],
            options={
                'verbose_name': 'satisfaction rating',
                'verbose_name_plural': 'satisfaction ratings',
                'db_table': table_name("satisfaction_ratings"),
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.AddField(
            model_name='department',
            name='assignment_mode',
            field=models.CharField(choices=[('off', 'Off: new tickets wait in the queue'), ('round_robin', 'Round robin'), ('least_loaded', 'Least loaded')], default='off', help_text='Give each new ticket to an available agent of the department.', max_length=16, verbose_name='auto-assignment'),
        ),
        migrations.AddField(
            model_name='department',
            name='max_open_tickets_per_agent',
            field=models.PositiveIntegerField(blank=True, help_text='Auto-assignment skips agents who already hold this many open tickets (any department). Empty: no limit.', null=True, verbose_name='open tickets per agent'),
        ),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(fields=['resolved_at'], name='esc_ticket_resolved_at'),
        ),
        migrations.AddField(
            model_name='macro',
            name='owner',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
        ),
        migrations.AddField(
            model_name='routingcursor',
            name='last_agent',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='last agent'),
        ),
        migrations.AddField(
            model_name='satisfactionrating',
            name='rated_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='rated by'),
        ),
        migrations.AddField(
            model_name='satisfactionrating',
            name='ticket',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='satisfaction_rating', to='escalated.ticket', verbose_name='ticket'),
        ),
        migrations.AddConstraint(
            model_name='satisfactionrating',
            constraint=models.CheckConstraint(condition=models.Q(('rating__gte', 1), ('rating__lte', 5)), name='esc_rating_one_to_five'),
        ),
    ]
