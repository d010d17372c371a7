"use strict";
// Swagger UI without inline script (the CSP allows scripts from this server only).
window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
                             presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout"});
