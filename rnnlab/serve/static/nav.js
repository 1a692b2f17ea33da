// Shared nav bar: every page includes this file and gets links to every page the server has
// (GET /api/pages). Put <nav id="site-nav"></nav> in the page, or it is added at the top.
(function () {
  "use strict";
  function render(pages) {
    let nav = document.getElementById("site-nav");
    if (!nav) {
      nav = document.createElement("nav");
      nav.id = "site-nav";
      nav.setAttribute("aria-label", "Pages");
      document.body.prepend(nav);
    }
    nav.classList.add("site-nav");
    nav.textContent = "";
    const brand = document.createElement("span");
    brand.className = "brand";
    brand.textContent = "rnnlab";
    nav.appendChild(brand);
    const here = location.pathname.replace(/\/index\.html$/, "/");
    for (const p of pages) {
      const a = document.createElement("a");
      a.href = p.path;
      a.textContent = p.label;
      if (here === p.path || (p.path !== "/" && here.startsWith(p.path))) a.setAttribute("aria-current", "page");
      nav.appendChild(a);
    }
  }
  function load() {
    fetch("/api/pages").then((r) => r.json()).then((d) => render(d.pages))
      .catch(() => render([{ path: "/", label: "Explorer" }, { path: "/game", label: "Game" }]));
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", load);
  else load();
})();
