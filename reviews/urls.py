from django.urls import path

from . import views

urlpatterns = [
    path("staff/", views.queue, name="staff_queue"),
    path("staff/bulk-approve/", views.bulk_approve, name="staff_bulk_approve"),
    path("staff/periodic-review/", views.periodic_review, name="staff_periodic_review"),
    path("staff/reports/", views.report, name="staff_reports"),
    path("staff/compliance/", views.compliance, name="staff_compliance"),
    path("staff/access-log/", views.access_log, name="staff_access_log"),
    path("staff/packets/<int:pk>/", views.permit_review, name="staff_permit"),
    path("staff/packets/<int:pk>/claim/", views.claim, name="staff_claim"),
    path("staff/packets/<int:pk>/assign/", views.assign, name="staff_assign"),
    path("staff/packets/<int:pk>/notes/", views.add_note, name="staff_add_note"),
    path("staff/packets/<int:pk>/request-info/", views.request_info, name="staff_request_info"),
    path("staff/packets/<int:pk>/approve/", views.approve, name="staff_approve"),
    path("staff/packets/<int:pk>/deny/", views.deny, name="staff_deny"),
    path("staff/packets/<int:pk>/confirm-denial/", views.confirm_denial, name="staff_confirm_denial"),
    path("staff/packets/<int:pk>/void/", views.void, name="staff_void"),
    path("staff/packets/<int:pk>/revoke/", views.revoke, name="staff_revoke"),
    path("staff/packets/<int:pk>/site-review/", views.site_review, name="staff_site_review"),
    path("staff/packets/<int:pk>/appeal-decision/", views.decide_appeal, name="staff_decide_appeal"),
    path("staff/packets/<int:pk>/county-appeal/", views.county_appeal, name="staff_county_appeal"),
    path("staff/packets/<int:pk>/county-decision/", views.county_decision, name="staff_county_decision"),
    path("staff/documents/<int:pk>/", views.document_view, name="staff_document"),
    path("staff/documents/<int:pk>/verify/", views.verify_document, name="staff_verify_document"),
    path("staff/documents/<int:pk>/reject/", views.reject_document, name="staff_reject_document"),
]
