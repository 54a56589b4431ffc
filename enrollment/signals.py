"""`event_recorded` is sent for every EnrollmentEvent the services write, inside their
transaction, so that the services need not import the tasks that handle events (the
receiver, in enrollment.tasks, hands the event to a worker after commit)."""

from django.dispatch import Signal

event_recorded = Signal()  # sender=EnrollmentEvent, event=<EnrollmentEvent>
