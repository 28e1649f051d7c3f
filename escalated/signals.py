"""The Django signals Escalated sends, after the change that caused them has committed.

Receivers get ``sender`` (the model class) and the keyword arguments noted beside each signal.
``user`` is the person who acted, or None when a rule or command did.
"""

import django.dispatch

# Ticket lifecycle
ticket_created = django.dispatch.Signal()  # ticket, user
ticket_updated = django.dispatch.Signal()  # ticket, user, changes {field: (before, after)}
ticket_status_changed = django.dispatch.Signal()  # ticket, user, old_status, new_status
ticket_assigned = django.dispatch.Signal()  # ticket, user, agent
ticket_unassigned = django.dispatch.Signal()  # ticket, user, previous_agent
ticket_priority_changed = django.dispatch.Signal()  # ticket, user, old_priority, new_priority
ticket_escalated = django.dispatch.Signal()  # ticket, user, reason
ticket_resolved = django.dispatch.Signal()  # ticket, user
ticket_closed = django.dispatch.Signal()  # ticket, user
ticket_reopened = django.dispatch.Signal()  # ticket, user

# Replies
reply_created = django.dispatch.Signal()  # reply, ticket, user
internal_note_added = django.dispatch.Signal()  # reply, ticket, user

# SLA
sla_breached = django.dispatch.Signal()  # ticket, breach_type
sla_warning = django.dispatch.Signal()  # ticket, warning_type, remaining

# Tags
tag_added = django.dispatch.Signal()  # tag, ticket, user
tag_removed = django.dispatch.Signal()  # tag, ticket, user

# Departments
department_changed = django.dispatch.Signal()  # ticket, user, old_department, new_department

# Guests
guest_link_issued = django.dispatch.Signal()  # ticket, name, email, link (the magic link)
guest_ticket_claimed = django.dispatch.Signal()  # ticket, user, email
# Satisfaction
ticket_rated = django.dispatch.Signal()  # rating, ticket, user
