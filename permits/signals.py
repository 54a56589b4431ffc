"""The one signal of the permit layer, so that the layers above can react to an event
without this one importing them.

`event_recorded` is sent for every PermitEvent the services write, inside their
transaction. It carries no domain flow: the receiver in `notifications` only asks a
worker, after commit, to do what the event causes. The event row is the promise
(`notified_at` is null until done) and a sweeper finds whatever a lost message left.
"""

from django.dispatch import Signal

event_recorded = Signal()  # sender=PermitEvent, event=<PermitEvent>
