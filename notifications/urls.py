from django.urls import path

from . import views

urlpatterns = [
    path("family/letters/<int:pk>/", views.family_letter, name="family_letter"),
    path("staff/letters/", views.letter_list, name="letter_list"),
    path("staff/letters/<int:pk>/", views.staff_letter, name="staff_letter"),
    path("staff/letters/batches/", views.batch_create, name="letter_batch_create"),
    path("staff/letters/batches/<int:pk>/", views.batch_detail, name="letter_batch"),
    path("staff/letters/batches/<int:pk>/status/", views.batch_status, name="letter_batch_status"),
    path("staff/letters/batches/<int:pk>/pdf/", views.batch_download, name="letter_batch_download"),
    path("verify/<str:code>/", views.verify, name="verify_letter"),
]
