/* DOM and storage helpers of the admissions chat widget; widget.js loads this file before the other modules.

   Every text goes through textContent (never innerHTML); safeUrl keeps http(s) links only;
   link() builds the only kind of <a> the widget makes (http(s), rel="noopener noreferrer"). */
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

  // An <a> for an http(s) address only (null otherwise); a new tab unless sameTab.
  function link(cls, url, text, newWindowText, sameTab) {
    var href = safeUrl(url);
    if (!href) { return null; }
    var a = el("a", cls, text);
    a.href = href;
    a.rel = "noopener noreferrer";
    if (!sameTab) {
      a.target = "_blank";
      if (newWindowText) { a.appendChild(el("span", "aw-sr", " " + newWindowText)); }
    }
    return a;
  }

  // A unique id for a message (kept in the stored history).
  function uid() {
    var rnd = "";
    try {
      var a = new Uint32Array(2);
      window.crypto.getRandomValues(a);
      rnd = a[0].toString(36) + a[1].toString(36);
    } catch (e) { rnd = Math.random().toString(36).slice(2); }
    return "m" + Date.now().toString(36) + rnd;
  }

  // "Assistant des admissions" -> "AA": first letters of the first two significant words.
  function initials(name) {
    var small = ["de", "des", "du", "la", "le", "les", "et", "à", "au", "aux", "d", "l", "en", "pour"];
    var words = String(name || "").split(/[\s'’-]+/).filter(function (w) { return w && small.indexOf(w.toLowerCase()) < 0; });
    return words.slice(0, 2).map(function (w) { return w.charAt(0).toUpperCase(); }).join("") || "?";
  }

  /* ---------- modal dialog helpers ---------- */
  var FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";
  function focusables(container) {
    return Array.prototype.filter.call(container.querySelectorAll(FOCUSABLE), function (n) {
      if (n.disabled || n.tabIndex < 0 || !n.getClientRects().length) { return false; }
      // Only the checked radio of a group (or its first one) is a Tab stop.
      if (n.type === "radio" && n.name) {
        var group = container.querySelectorAll('input[type="radio"][name="' + n.name + '"]');
        var checked = Array.prototype.filter.call(group, function (r) { return r.checked; })[0];
        return checked ? n === checked : n === group[0];
      }
      return true;
    });
  }

  // Tab and Shift+Tab cycle inside `container`; returns true when it moved the focus.
  function trapTab(container, ev) {
    var list = focusables(container);
    if (!list.length) { return false; }
    var first = list[0], last = list[list.length - 1], active = document.activeElement;
    var inside = container.contains(active);
    var before = !inside || active === first ||
      (list.indexOf(active) < 0 && (first.compareDocumentPosition(active) & Node.DOCUMENT_POSITION_PRECEDING));
    var after = !inside || active === last ||
      (list.indexOf(active) < 0 && (last.compareDocumentPosition(active) & Node.DOCUMENT_POSITION_FOLLOWING));
    if (ev.shiftKey && before) { last.focus(); ev.preventDefault(); return true; }
    if (!ev.shiftKey && after) { first.focus(); ev.preventDefault(); return true; }
    return false;
  }

  // Make everything of <body> but `keep` inert (on) or give it back (off).
  function inertOthers(keep, on) {
    Array.prototype.forEach.call(document.body.children, function (n) {
      if (n === keep) { return; }
      if (on && !n.inert) { n.inert = true; n.setAttribute("data-aw-inert", ""); }
      if (!on && n.hasAttribute("data-aw-inert")) { n.inert = false; n.removeAttribute("data-aw-inert"); }
    });
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

  window.AdmissionsChatDom = { el: el, button: button, safeUrl: safeUrl, link: link, store: store, icon: icon,
                               uid: uid, initials: initials, focusables: focusables, trapTab: trapTab,
                               inertOthers: inertOthers };
}());
