from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("policy/", views.policy, name="policy"),
    path("family/", views.family_dashboard, name="family_dashboard"),
    path("family/packets/new/", views.permit_start, name="permit_start"),
    path("family/packets/<int:pk>/", views.permit_detail, name="permit_detail"),
    path("family/packets/<int:pk>/details/", views.permit_details, name="permit_details"),
    path("family/packets/<int:pk>/documents/", views.permit_documents, name="permit_documents"),
    path("family/packets/<int:pk>/review/", views.permit_review, name="permit_review"),
    path("family/packets/<int:pk>/submit/", views.permit_submit, name="permit_submit"),
    path("family/packets/<int:pk>/withdraw/", views.permit_withdraw, name="permit_withdraw"),
    path("family/packets/<int:pk>/answer/", views.permit_answer, name="permit_answer"),
    path("family/packets/<int:pk>/appeal/", views.permit_appeal, name="permit_appeal"),
    path("family/documents/<int:pk>/", views.document_download, name="document_download"),
    path("family/documents/<int:pk>/delete/", views.document_delete, name="document_delete"),
]
