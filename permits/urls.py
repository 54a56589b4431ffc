from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("policy/", views.policy, name="policy"),
    path("family/", views.family_dashboard, name="family_dashboard"),
    path("family/permits/new/", views.permit_start, name="permit_start"),
    path("family/permits/<int:pk>/", views.permit_detail, name="permit_detail"),
    path("family/permits/<int:pk>/details/", views.permit_details, name="permit_details"),
    path("family/permits/<int:pk>/documents/", views.permit_documents, name="permit_documents"),
    path("family/permits/<int:pk>/confirm/", views.permit_confirm, name="permit_confirm"),
    path("family/permits/<int:pk>/submit/", views.permit_submit, name="permit_submit"),
    path("family/permits/<int:pk>/withdraw/", views.permit_withdraw, name="permit_withdraw"),
    path("family/permits/<int:pk>/answer/", views.permit_answer, name="permit_answer"),
    path("family/permits/<int:pk>/appeal/", views.permit_appeal, name="permit_appeal"),
    path("family/permits/<int:pk>/confirm-return/", views.permit_confirm_return, name="permit_confirm_return"),
    path("family/permits/<int:pk>/release/", views.permit_release, name="permit_release"),
    path("family/documents/<int:pk>/", views.document_download, name="document_download"),
    path("family/documents/<int:pk>/delete/", views.document_delete, name="document_delete"),
    path("family/letters/<int:pk>/", views.letter_download, name="family_letter"),
    path("verify/<str:code>/", views.letter_verify, name="verify_letter"),
    path("find-my-school/", views.find_my_school, name="find_my_school"),
]
