"""The transfers the law protects, and what that means for a decision (DOMAIN §2).

- Intra-district: a bullying victim's request is approved, at another school when the
  requested one is full (EC 46600(b) as the district's policy applies it).
- Inter-district outgoing: the district of residence may not prohibit the transfer of a
  bullying victim or of a child of an active-duty military parent once the receiving
  district approves (EC 46600(b), (d)). Such a request is not denied on the district's
  usual grounds; only when its documents do not show the protection applies.
- Inter-district incoming: these pupils are accepted up to capacity; grades,
  attendance and behavior are never reasons to refuse them.

The service that denies or approves (permits.services) asks here; the denial form
offers only the reasons allowed here; the rule that applied is stored on the decision
(Permit.decision_rule).
"""

from .models import DecisionRule, DenialReason, Permit, PermitKind, Reason

# What a protected incoming request may never be refused for.
_NEVER_FOR_PROTECTED_INCOMING = {DenialReason.GRADES, DenialReason.ATTENDANCE, DenialReason.BEHAVIOR}


def protected_group(permit: Permit) -> str:
    """ "bullying", "military" or "" from the family's answers and the chosen reason."""
    group = permit.reason.priority_group if permit.reason_id else ""
    if permit.bullying_victim or group == Reason.PriorityGroup.BULLYING:
        return Reason.PriorityGroup.BULLYING
    if permit.military_family or group == Reason.PriorityGroup.MILITARY:
        return Reason.PriorityGroup.MILITARY
    return ""


def decision_rule(permit: Permit) -> DecisionRule | str:
    """The protection a decision on this request follows (a DecisionRule, whose label
    the pages show); "" for none."""
    group = protected_group(permit)
    if not group:
        return ""
    if permit.kind == PermitKind.INTRA:
        return DecisionRule.BULLYING_INTRA if group == Reason.PriorityGroup.BULLYING else ""
    if permit.kind == PermitKind.INTER_OUT:
        return DecisionRule.OUTGOING_PROTECTED
    return DecisionRule.INCOMING_PRIORITY


def allowed_denial_reasons(permit: Permit) -> list[str]:
    """The denial reasons the form offers for this request: none for a protected
    intra-district request (it must be approved), only "the documents do not support
    the reason" for a protected outgoing one, no grades, attendance or behavior for a
    protected incoming one, and "no release" for incoming requests only."""
    rule = decision_rule(permit)
    if rule == DecisionRule.BULLYING_INTRA:
        return []
    if rule == DecisionRule.OUTGOING_PROTECTED:
        return [DenialReason.REASON_NOT_SUPPORTED]
    reasons = [code for code in DenialReason.values if code != DenialReason.NO_RELEASE or permit.kind == "inter_in"]
    if rule == DecisionRule.INCOMING_PRIORITY:
        reasons = [code for code in reasons if code not in _NEVER_FOR_PROTECTED_INCOMING]
    return reasons
