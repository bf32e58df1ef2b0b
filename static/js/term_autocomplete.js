// Ontology term autocomplete (vocabularies.widgets.TermAutocompleteWidget). A file, never inline,
// so the CSP can forbid inline scripts. htmx fetches the suggestion listbox as you type; this script
// lets you move through it with the arrow keys and puts the chosen term's IRI in the hidden input.
"use strict";

(() => {
  const SEARCH = "[data-term-search]";
  const OPTION = '[role="option"]:not([aria-disabled="true"])';

  const hiddenInput = (input) => input.closest("[data-term-autocomplete]").querySelector("[data-term-iri]");
  const listboxOf = (input) => document.getElementById(input.getAttribute("aria-controls"));
  const optionsOf = (input) => {
    const listbox = listboxOf(input);
    return listbox ? [...listbox.querySelectorAll(OPTION)] : [];
  };

  function setOpen(input, open) {
    const listbox = listboxOf(input);
    if (listbox) {
      listbox.hidden = !open;
    }
    input.setAttribute("aria-expanded", String(open));
    if (!open) {
      setActive(input, null);
    }
  }

  function setActive(input, option) {
    const listbox = listboxOf(input);
    for (const other of listbox ? listbox.querySelectorAll('[role="option"]') : []) {
      other.setAttribute("aria-selected", String(other === option));
    }
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function choose(input, option) {
    hiddenInput(input).value = option.dataset.iri;
    input.value = option.dataset.label;
    input.dataset.chosen = option.dataset.label;
    setOpen(input, false);
  }

  function move(input, step) {
    const options = optionsOf(input);
    if (options.length === 0) {
      return;
    }
    setOpen(input, true);
    const active = document.getElementById(input.getAttribute("aria-activedescendant") || "");
    const index = options.indexOf(active);
    const next = index === -1 ? (step > 0 ? 0 : options.length - 1) : (index + step + options.length) % options.length;
    setActive(input, options[next]);
  }

  // The search text travels as q; the text box's own name only matters when the form is submitted.
  document.addEventListener("htmx:configRequest", (event) => {
    const input = event.detail.elt;
    if (input instanceof HTMLInputElement && input.matches(SEARCH)) {
      delete event.detail.parameters[input.name];
      event.detail.parameters.q = input.value;
    }
  });

  // New suggestions arrived: show them, unless a term was chosen meanwhile. The event fires on the
  // new listbox; the request config names the text box that asked.
  document.addEventListener("htmx:afterSettle", (event) => {
    const input = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (input instanceof HTMLInputElement && input.matches(SEARCH)) {
      const listbox = listboxOf(input);
      const stillTyping = input.dataset.chosen !== input.value && document.activeElement === input;
      setOpen(input, Boolean(listbox && !listbox.hidden && stillTyping));
    }
  });

  // Typing makes a chosen IRI stale: the label no longer names it.
  document.addEventListener("input", (event) => {
    const input = event.target;
    if (input instanceof HTMLInputElement && input.matches(SEARCH)) {
      hiddenInput(input).value = "";
      delete input.dataset.chosen;
    }
  });

  document.addEventListener("keydown", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.matches(SEARCH)) {
      return;
    }
    const open = input.getAttribute("aria-expanded") === "true";
    const active = document.getElementById(input.getAttribute("aria-activedescendant") || "");
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      move(input, event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter" && open && active) {
      event.preventDefault(); // choose the term, do not submit the form
      choose(input, active);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      setOpen(input, false);
    } else if (event.key === "Tab") {
      setOpen(input, false);
    }
  });

  // Keep the focus in the text box while an option is pressed, then take it.
  document.addEventListener("mousedown", (event) => {
    if (event.target instanceof Element && event.target.closest(`.term-listbox ${OPTION}`)) {
      event.preventDefault();
    }
  });
  document.addEventListener("click", (event) => {
    const option = event.target instanceof Element ? event.target.closest(`.term-listbox ${OPTION}`) : null;
    const input = option ? document.querySelector(`${SEARCH}[aria-controls="${option.closest(".term-listbox").id}"]`) : null;
    if (option && input) {
      choose(input, option);
      input.focus();
    }
  });

  // Leaving the text box closes its suggestions.
  document.addEventListener("focusout", (event) => {
    const input = event.target;
    if (input instanceof HTMLInputElement && input.matches(SEARCH)) {
      setOpen(input, false);
    }
  });
})();
