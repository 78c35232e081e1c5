// Swagger UI over the broker's own document (same origin; no CDN, no inline script: the page's CSP is script-src 'self')
window.ui = SwaggerUIBundle({
  url: '/admin/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  persistAuthorization: false,
  tryItOutEnabled: false
});
