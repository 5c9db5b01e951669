// Starts ReDoc or Swagger UI on the docs page of pym-lambda. A file rather than an inline
// script, so that the page's Content-Security-Policy allows scripts from 'self' only.
(function () {
  "use strict";
  var root = document.getElementById("pym-docs");
  if (!root) {
    return;
  }
  var specUrl = root.getAttribute("data-spec-url");
  // The server-rendered operations: the page without JavaScript, hidden while the UI runs.
  var fallback = document.getElementById("pym-docs-static");
  if (fallback) {
    fallback.hidden = true;
  }

  function showError(message) {
    if (fallback) {
      fallback.hidden = false;
    }
    var p = document.createElement("p");
    p.className = "pym-docs-error";
    p.textContent = "The docs could not be rendered: " + message;
    root.appendChild(p);
  }

  try {
    if (root.getAttribute("data-ui") === "swagger-ui") {
      window.ui = window.SwaggerUIBundle({
        url: specUrl,
        domNode: root,
        deepLinking: true,
        validatorUrl: null, // the default would send the spec to validator.swagger.io
        presets: [window.SwaggerUIBundle.presets.apis],
        layout: "BaseLayout"
      });
    } else {
      window.Redoc.init(specUrl, {}, root, function (error) {
        if (error) {
          showError(String(error.message || error));
        }
      });
    }
  } catch (error) {
    showError(String(error.message || error));
  }
})();
