/* "Contacter le service des admissions": a form inside the chat panel. widget.js loads this
   file and calls AdmissionsChatContact(app).

   POST {server}/webhooks/feedback/contact {sender, name, email, message, consent_transcript}
   -> 201 {"ok": true, "reference": "…"}: the form closes and the chat says what happens next;
   -> 400 {"errors": {"name"|"email"|"message": "…"}}: each error next to its field.
   The same checks run here first. A network error keeps everything typed. */
(function () {
  "use strict";

  var EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

  window.AdmissionsChatContact = function (app) {
    var S = app.S, D = app.D, el = D.el, button = D.button;
    var opener = null, fields = {};

    var form = el("form", "aw-contact", null, { hidden: true, "aria-labelledby": "aw-contact-title" });
    form.noValidate = true;
    var heading = el("h3", "aw-contact-title", S.contactTitle, { id: "aw-contact-title", tabIndex: -1 });
    form.appendChild(heading);
    form.appendChild(el("p", "aw-contact-intro", S.contactIntro));

    function field(key, label, tag, attrs, hint) {
      var id = "aw-c-" + key, box = el("div", "aw-field");
      box.appendChild(el("label", "aw-field-label", label, { htmlFor: id }));
      var hintNode = hint ? el("p", "aw-field-hint", hint, { id: id + "-hint" }) : null;
      if (hintNode) { box.appendChild(hintNode); }
      attrs.id = id;
      attrs.required = true;
      var input = el(tag, "aw-field-input", null, attrs);
      if (hintNode) { input.setAttribute("aria-describedby", hintNode.id); }
      box.appendChild(input);
      var err = el("p", "aw-field-error", null, { id: id + "-err", hidden: true });
      box.appendChild(err);
      form.appendChild(box);
      fields[key] = { input: input, err: err, hint: hintNode };
    }
    field("name", S.contactName, "input", { type: "text", autocomplete: "name", maxLength: 100 });
    field("email", S.contactEmail, "input", { type: "email", autocomplete: "email", maxLength: 254,
                                               spellcheck: false }, S.contactEmailHint);
    field("message", S.contactMessage, "textarea", { rows: 4, maxLength: 2000 });

    var check = el("div", "aw-check");
    var consent = el("input", null, null, { type: "checkbox", id: "aw-c-transcript", "aria-describedby": "aw-c-transcript-hint" });
    check.appendChild(consent);
    check.appendChild(el("label", null, S.contactTranscript, { htmlFor: "aw-c-transcript" }));
    check.appendChild(el("p", "aw-field-hint", S.contactTranscriptHint, { id: "aw-c-transcript-hint" }));
    form.appendChild(check);

    var formError = el("p", "aw-contact-error", null, { role: "alert" });
    form.appendChild(formError);
    var actions = el("div", "aw-contact-actions");
    var submitBtn = el("button", "aw-contact-send", S.contactSend, { type: "submit" });
    var cancel = button("aw-contact-cancel", S.contactCancel);
    actions.appendChild(submitBtn);
    actions.appendChild(cancel);
    form.appendChild(actions);

    function setError(key, text) {
      var f = fields[key], ids = f.hint ? [f.hint.id] : [];
      f.err.textContent = text || "";
      f.err.hidden = !text;
      if (text) {
        ids.push(f.err.id);
        f.input.setAttribute("aria-invalid", "true");
      } else {
        f.input.removeAttribute("aria-invalid");
      }
      if (ids.length) { f.input.setAttribute("aria-describedby", ids.join(" ")); } else { f.input.removeAttribute("aria-describedby"); }
    }

    // Errors by field ({key: text}); the focus goes to the first field in error.
    function showErrors(errors) {
      var first = null;
      ["name", "email", "message"].forEach(function (k) {
        var text = errors && typeof errors[k] === "string" ? errors[k] : "";
        setError(k, text);
        if (text && !first) { first = fields[k].input; }
      });
      formError.textContent = first ? S.contactFixErrors : "";
      if (first) { first.focus(); }
      return !first;
    }

    function validate() {
      var v = values(), e = {};
      if (!v.name) { e.name = S.contactNameRequired; }
      if (!v.email) { e.email = S.contactEmailRequired; } else if (!EMAIL.test(v.email)) { e.email = S.contactEmailInvalid; }
      if (!v.message) { e.message = S.contactMessageRequired; }
      return showErrors(e);
    }

    function values() {
      return { name: fields.name.input.value.trim(), email: fields.email.input.value.trim(),
               message: fields.message.input.value.trim() };
    }

    function open(from) {
      opener = from || null;
      if (!fields.message.input.value.trim()) { fields.message.input.value = app.lastQuestion(); }
      formError.textContent = "";
      form.hidden = false;
      app.showContact(true);
      fields.name.input.focus();
    }

    function close() {
      form.hidden = true;
      app.showContact(false);
      var back = opener && document.body.contains(opener) && opener.getClientRects().length ? opener : null;
      opener = null;
      return back;
    }

    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (submitBtn.disabled || !validate()) { return; }
      var v = values();
      submitBtn.disabled = true;
      formError.textContent = "";
      app.setStatus(S.contactSending);
      app.postJson("/webhooks/feedback/contact", {
        sender: app.sessionId(), name: v.name, email: v.email, message: v.message,
        consent_transcript: !!consent.checked
      }).then(function (res) {
        submitBtn.disabled = false;
        app.setStatus("");
        if (res.status === 201 || (res.status === 200 && res.data && res.data.ok)) {
          var ref = res.data && typeof res.data.reference === "string" ? res.data.reference.slice(0, 64) : "";
          fields.message.input.value = "";
          consent.checked = false;
          showErrors({});
          close();
          app.addNotice(ref ? S.contactDone.replace("{reference}", ref) : S.contactDoneNoRef);
        } else if (res.status === 400 && res.data && res.data.errors && typeof res.data.errors === "object") {
          if (showErrors(res.data.errors)) { formError.textContent = S.contactFailed; }
        } else {
          formError.textContent = S.contactFailed;
        }
      }, function () {
        submitBtn.disabled = false;
        app.setStatus("");
        formError.textContent = S.contactFailed;
      });
    });
    cancel.addEventListener("click", function () {
      var back = close();
      app.focusAfterContact(back);
    });

    // The offer shown in the log (after "offer_contact" replies and "not useful" ratings).
    function offer() {
      var box = el("div", "aw-offer");
      box.appendChild(el("p", null, S.contactOffer));
      var b = button("aw-offer-btn", S.contact);
      b.addEventListener("click", function () { open(b); });
      box.appendChild(b);
      return box;
    }

    return { node: form, open: open, offer: offer, isOpen: function () { return !form.hidden; } };
  };
}());
