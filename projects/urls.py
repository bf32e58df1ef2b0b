from __future__ import annotations

from django.urls import path

from projects import views

app_name = "projects"

urlpatterns = [
    path("", views.project_list, name="list"),
    path("new/", views.project_create, name="create"),
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/edit/", views.project_edit, name="edit"),
    path("<int:pk>/members/", views.project_members, name="members"),
    path("<int:pk>/audit/", views.project_audit, name="audit"),
    path("<int:pk>/members/<int:membership_pk>/role/", views.membership_update, name="membership_update"),
    path("<int:pk>/members/<int:membership_pk>/remove/", views.membership_remove, name="membership_remove"),
    path(
        "<int:pk>/invitations/<int:invitation_pk>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("teams/", views.team_list, name="team_list"),
    path("teams/<int:pk>/", views.team_detail, name="team_detail"),
    path("teams/<int:pk>/members/<int:user_pk>/remove/", views.team_member_remove, name="team_member_remove"),
    path("facilities/", views.facility_list, name="facility_list"),
]
