// FAIRlight page behaviour. Loaded as a file (never inline) so the CSP can forbid inline scripts.
"use strict";

// Every htmx request carries the CSRF token from the <body> data attribute.
document.addEventListener("htmx:configRequest", (event) => {
  event.detail.headers["X-CSRFToken"] = document.body.dataset.csrfToken;
});

// Forms marked data-confirm ask before doing something that cannot be undone.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
