/* DOM and storage helpers of the admissions chat widget; widget.js loads this file first.

   Every text goes through textContent (never innerHTML); safeUrl keeps http(s) links only. */
(function () {
  "use strict";

  /* ---------- storage (may be unavailable: private mode, blocked cookies) ---------- */
  function store(kind, prefix) {
    return {
      get: function (k) { try { return window[kind].getItem(prefix + k); } catch (e) { return null; } },
      set: function (k, v) { try { window[kind].setItem(prefix + k, v); } catch (e) { /* not kept */ } },
      del: function (k) { try { window[kind].removeItem(prefix + k); } catch (e) { /* nothing */ } }
    };
  }

  function el(tag, cls, text, attrs) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    Object.keys(attrs || {}).forEach(function (k) {
      if (k in node && k.indexOf("-") < 0) { node[k] = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    return node;
  }

  function button(cls, text, attrs) {
    var b = el("button", cls, text, attrs);
    b.type = "button";
    return b;
  }

  function safeUrl(url) {
    try {
      var u = new URL(String(url), window.location.href);
      return (u.protocol === "http:" || u.protocol === "https:") ? u.href : null;
    } catch (e) { return null; }
  }

  function icon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var p = document.createElementNS(ns, "path");
    p.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
    svg.appendChild(p);
    return svg;
  }

  window.AdmissionsChatDom = { el: el, button: button, safeUrl: safeUrl, store: store, icon: icon };
}());
