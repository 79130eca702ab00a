/* Renders the site's ```mermaid fences with the vendored mermaid.min.js (see mermaid.NOTICE.txt).
 *
 * pymdownx.superfences turns a mermaid fence into <div class="mermaid">source</div>
 * (fence_div_format), which Material's own integration (on pre.mermaid) leaves alone, so the
 * diagram is drawn here, as an <svg> inside that div, with nothing loaded from another host. */
(function () {
  "use strict";
  if (typeof window.mermaid === "undefined") {
    console.error("mermaid.min.js did not load: diagrams stay as text");
    return;
  }
  window.mermaid.initialize({
    startOnLoad: false,
    securityLevel: "strict",
    theme: "default",
    fontFamily: "-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, sans-serif",
    flowchart: { useMaxWidth: true, htmlLabels: true },
  });

  function render() {
    var pending = document.querySelectorAll("div.mermaid:not([data-processed])");
    if (!pending.length) return;
    window.mermaid.run({ nodes: pending, suppressErrors: true }).catch(function (error) {
      console.error("mermaid:", error);
    });
  }

  // Material publishes each (instantly loaded) page on document$; without it, wait for the DOM.
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(render);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
})();
