"""URLs. The tenant travels in the envelope (or a resource route's `X-Tenant`), so there is
one URL space for all tenants."""

from django.contrib import admin
from django.urls import path
from django.views.generic import TemplateView

from actions.contract.registry import Channel
from actions.edge import rest
from adminchannel import dashboard, prometheus

urlpatterns = [
    path("health", rest.HealthView.as_view(), name="health"),
    path("metrics", prometheus.metrics_view, name="metrics"),
    path("api/v1/actions", rest.ActionsView.as_view(channel=Channel.USER), name="actions-post"),
    path(
        "api/v1/actions/<uuid:record_id>",
        rest.RecordView.as_view(channel=Channel.USER),
        name="actions-get",
    ),
    path(
        "api/v1/admin/actions",
        rest.ActionsView.as_view(channel=Channel.ADMIN),
        name="admin-actions-post",
    ),
    path(
        "api/v1/admin/actions/<uuid:record_id>",
        rest.RecordView.as_view(channel=Channel.ADMIN),
        name="admin-actions-get",
    ),
    path("api/v1/index", rest.IndexView.as_view(), name="index"),
    path("api/v1/openapi.json", rest.DocumentView.as_view(document="openapi"), name="openapi"),
    path("api/v1/asyncapi.json", rest.DocumentView.as_view(document="asyncapi"), name="asyncapi"),
    path("api/docs/", TemplateView.as_view(template_name="api/swagger.html"), name="api-docs"),
    path("dashboard/", dashboard.page, name="dashboard"),
    path("dashboard/<slug:name>/", dashboard.page, name="dashboard-page"),
    path("admin/", admin.site.urls),
    *(path(route, view) for route, view in rest.route_views()),
]

handler400 = "actions.edge.gateway.bad_request"
handler404 = "actions.edge.gateway.not_found"
handler500 = "actions.edge.gateway.server_error"
