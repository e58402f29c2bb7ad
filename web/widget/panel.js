/* The chat panel's elements (launcher, header with the bot's name and initials, privacy
   notice, log, status and alert lines, question box). widget.js loads this file and calls
   AdmissionsChatPanel(app, draft); the behaviour stays in widget.js.

   Every text goes through textContent (never innerHTML). */
(function () {
  "use strict";

  window.AdmissionsChatPanel = function (app, draft) {
    var S = app.S, D = app.D, cfg = app.cfg, el = D.el, button = D.button;

    var root = el("div", "aw-root", null, { "data-admissions-chat": "" });
    if (cfg.primaryColor) { root.style.setProperty("--aw-primary", cfg.primaryColor); }
    if (cfg.primaryTextColor) { root.style.setProperty("--aw-on-primary", cfg.primaryTextColor); }
    if (cfg.accentColor) { root.style.setProperty("--aw-accent", cfg.accentColor); }

    var launcher = button("aw-launcher", null, { "aria-expanded": "false", "aria-controls": "aw-panel",
                                                 "aria-label": S.launcher });
    launcher.appendChild(D.icon());
    launcher.appendChild(el("span", "aw-launcher-text", S.launcherShort));

    var panel = el("section", "aw-panel", null, { id: "aw-panel", hidden: true, role: "dialog",
                                                  "aria-modal": "false", "aria-labelledby": "aw-title" });

    // The bot's identity: its name (the dialog's name) and an avatar with its initials.
    var header = el("div", "aw-header");
    var title = el("h2", "aw-title", cfg.name, { id: "aw-title", tabIndex: -1 });
    var close = button("aw-close", null, { "aria-label": S.close });
    close.appendChild(el("span", null, "×")).setAttribute("aria-hidden", "true");
    header.appendChild(el("span", "aw-avatar", D.initials(cfg.name), { "aria-hidden": "true" }));
    header.appendChild(title);
    header.appendChild(close);

    // Short: the full text is on the site's privacy page (data-privacy-url).
    var privacy = el("div", "aw-privacy", null, { id: "aw-privacy" });
    var notice = el("p", null, String(S.privacy).replace("{days}", cfg.days));
    var privacyLink = D.link("aw-privacy-link", cfg.privacyUrl, S.privacyMore, null, true);
    if (privacyLink) {
      privacyLink.appendChild(el("span", "aw-sr", S.privacyMoreHidden));
      notice.appendChild(document.createTextNode(" "));
      notice.appendChild(privacyLink);
    }
    privacy.appendChild(notice);
    var privacyOk = button("aw-privacy-ok", S.privacyOk);
    privacy.appendChild(privacyOk);

    var log = el("div", "aw-log", null, { role: "log", "aria-live": "polite", "aria-label": S.logLabel,
                                          tabIndex: 0 });

    var typing = el("div", "aw-typing");
    typing.hidden = true;
    var dots = el("span", "aw-dots", null, { "aria-hidden": "true" });
    dots.appendChild(el("i"));
    dots.appendChild(el("i"));
    dots.appendChild(el("i"));
    typing.appendChild(dots);
    typing.appendChild(el("span", null, S.typing));

    var status = el("div", "aw-status", null, { role: "status" });
    var alertBox = el("div", "aw-alert", null, { role: "alert" });
    var alertText = el("p", "aw-alert-text");
    var retry = button("aw-retry", S.retry, { hidden: true });
    alertBox.appendChild(alertText);
    alertBox.appendChild(retry);

    var form = el("form", "aw-form");
    form.noValidate = true;
    var label = el("label", "aw-label", S.inputLabel, { htmlFor: "aw-input" });
    var hint = el("p", "aw-hint", S.inputHint, { id: "aw-hint" });
    var input = el("textarea", "aw-input", null, {
      id: "aw-input", rows: 2, maxLength: cfg.maxChars,
      placeholder: S.inputPlaceholder, "aria-describedby": "aw-hint", value: draft
    });
    var sendBtn = el("button", "aw-send", S.send, { type: "submit" });
    var row = el("div", "aw-row");
    row.appendChild(input);
    row.appendChild(sendBtn);
    // Always reachable: a person of the admissions office, and a fresh start.
    var foot = el("div", "aw-foot");
    var tools = el("div", "aw-tools");
    var contactBtn = button("aw-tool", S.contact);
    var reset = button("aw-tool", S.newConversation);
    tools.appendChild(contactBtn);
    tools.appendChild(reset);
    foot.appendChild(hint);
    foot.appendChild(tools);
    form.appendChild(label);
    form.appendChild(row);
    form.appendChild(foot);

    [header, privacy, log, typing, status, alertBox, form].forEach(function (n) { panel.appendChild(n); });
    root.appendChild(panel);
    root.appendChild(launcher);

    return { root: root, launcher: launcher, panel: panel, title: title, close: close, privacy: privacy,
             privacyOk: privacyOk, privacyLink: privacyLink, log: log, typing: typing, status: status,
             alertBox: alertBox, alertText: alertText, retry: retry, form: form, input: input,
             contactBtn: contactBtn, reset: reset };
  };
}());
