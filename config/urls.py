"""URLs. The tenant travels in the envelope, so there is one URL space for all tenants."""

from django.contrib import admin
from django.urls import path

from actions.edge import gateway
from adminchannel import dashboard, prometheus

urlpatterns = [
    path("health", gateway.health_view, name="health"),
    path("metrics", prometheus.metrics_view, name="metrics"),
    path("api/v1/actions", gateway.post_user, name="actions-post"),
    path("api/v1/actions/<uuid:record_id>", gateway.get_user, name="actions-get"),
    path("api/v1/admin/actions", gateway.post_admin, name="admin-actions-post"),
    path("api/v1/admin/actions/<uuid:record_id>", gateway.get_admin, name="admin-actions-get"),
    path("api/v1/index", gateway.index, name="index"),
    path("dashboard/", dashboard.page, name="dashboard"),
    path("dashboard/<slug:name>/", dashboard.page, name="dashboard-page"),
    path("admin/", admin.site.urls),
]

handler400 = "actions.edge.gateway.bad_request"
handler404 = "actions.edge.gateway.not_found"
handler500 = "actions.edge.gateway.server_error"
