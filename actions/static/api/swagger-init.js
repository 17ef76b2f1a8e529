// The API reference page: Swagger UI (vendored by drf-spectacular-sidecar, no CDN) on the
// OpenAPI document the index generates. A file, not an inline script, so a strict
// Content-Security-Policy needs no exception for it.
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
  });
});
