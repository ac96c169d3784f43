// DawsOS console: live run state over the run's SSE stream, and the
// operator's actions sent to the JSON API with the session's CSRF token.
// No library, no timers that poll: every update is an event the server sent.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.content : "";

  function api(method, path, body) {
    var opts = { method: method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf, "Accept": "application/json" } };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(path, opts).then(function (r) {
      return r.text().then(function (t) {
        var j = null; try { j = t ? JSON.parse(t) : null; } catch (e) { j = { detail: t }; }
        return { ok: r.ok, status: r.status, json: j };
      });
    });
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) { e.setAttribute(k, attrs[k]); }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function problemText(res) {
    var j = res.json || {};
    var s = res.status + " " + (j.title || "") + ": " + (j.detail || "");
    (j.fields || []).forEach(function (f) { s += "\n  " + f.field + ": " + f.message; });
    return s;
  }
  function flash(msg) { var f = document.getElementById("flash"); if (f) { f.textContent = msg; } }
  function token() {
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  var stateClass = { succeeded: "st-ok", failed: "st-bad", dead_lettered: "st-bad", partial: "st-warn", queued: "st-run", running: "st-run", pending: "st-run", skipped: "st-idle", canceled: "st-idle" };
  function setState(node, state) {
    node.classList.remove("st-ok", "st-bad", "st-warn", "st-run", "st-idle");
    node.classList.add(stateClass[state] || "st-idle");
    node.setAttribute("data-state", state);
  }
  var eventTypes = ["run.accepted", "run.reopened", "step.dispatched", "step.succeeded", "step.failed", "step.dead_lettered", "step.skipped", "step.canceled", "run.completed"];

  // follow opens the run's event stream after the last event the page
  // shows; the browser resumes it with Last-Event-ID after a drop.
  function follow(runID, after, onEvent) {
    var es = new EventSource("/v1/runs/" + runID + "/events?after=" + encodeURIComponent(after || 0));
    eventTypes.forEach(function (t) {
      es.addEventListener(t, function (m) {
        var ev; try { ev = JSON.parse(m.data); } catch (e) { return; }
        onEvent(ev, es);
      });
    });
    return es;
  }

  function runPage(root) {
    var runID = root.getAttribute("data-run-id");
    var timeline = document.getElementById("timeline");
    var note = document.getElementById("live-note");
    follow(runID, root.getAttribute("data-last-seq"), function (ev, es) {
      if (timeline && !timeline.querySelector('[data-seq="' + ev.seq + '"]')) {
        var li = el("li", { "data-seq": String(ev.seq) });
        li.appendChild(el("span", { "class": "muted" }, ev.at.replace("T", " ").replace(/\.\d+Z$/, "Z") + " "));
        li.appendChild(el("code", {}, ev.type));
        if (ev.step_id) { li.appendChild(document.createTextNode(" " + ev.step_id)); }
        timeline.appendChild(li);
      }
      var d = ev.data || {};
      if (ev.step_id && d.status) {
        var node = document.getElementById("node-" + ev.step_id);
        if (node) {
          setState(node, d.status);
          var t = node.querySelector("[data-state-text]"); if (t) { t.textContent = d.status; }
        }
        var sec = document.getElementById("step-" + ev.step_id);
        var badge = sec && sec.querySelector("[data-state-badge]");
        if (badge) { setState(badge, d.status); badge.textContent = d.status; }
      }
      if (ev.type === "run.completed") {
        es.close();
        var st = document.getElementById("run-status");
        if (st) { setState(st, d.status); st.textContent = d.status; }
        if (note) { note.textContent = "The run ended: " + d.status + "."; }
        if (root.hasAttribute("data-reload-on-complete")) { location.reload(); return; }
        // The step details (outputs, errors, dead letters) come from the
        // server once, now that they are final.
        fetch(location.pathname, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          ["step-details", "run-finished"].forEach(function (id) {
            var now = document.getElementById(id), next = doc.getElementById(id);
            if (now && next) { now.replaceWith(next); }
          });
          root.removeAttribute("data-live");
          root.setAttribute("data-done", d.status);
        });
      }
    });
  }

  // The runs list follows its running rows (a few: each is a connection).
  function runsList() {
    var rows = document.querySelectorAll("#runs tr[data-live]");
    for (var i = 0; i < rows.length && i < 4; i++) {
      (function (tr) {
        follow(tr.getAttribute("data-run"), 0, function (ev, es) {
          if (ev.type !== "run.completed") { return; }
          es.close();
          var b = tr.querySelector("[data-status]");
          var st = (ev.data || {}).status || "";
          setState(b, st); b.textContent = st;
          var f = tr.querySelector("[data-finished]"); if (f) { f.textContent = ev.at.replace("T", " ").replace(/\.\d+Z$/, "Z"); }
        });
      })(rows[i]);
    }
  }

  function breakerAction(b, verb, done) {
    var cap = b.getAttribute("data-capability");
    api("POST", "/v1/breakers/" + encodeURIComponent(cap) + "/" + verb).then(function (res) {
      if (!res.ok) { flash(problemText(res)); return; }
      var badge = b.closest("tr").querySelector("[data-breaker]");
      setState(badge, res.json.state); badge.textContent = res.json.state;
      flash("Breaker of " + cap + " " + done + ": " + res.json.state + ".");
    });
  }

  function submitRun(pattern, inputs) {
    return api("POST", "/v1/runs", { pattern: pattern, inputs: inputs });
  }
  function portfolioRun(elm) {
    var pf = elm.getAttribute("data-portfolio"), view = elm.getAttribute("data-view");
    flash("Submitting " + elm.getAttribute("data-pattern") + "…");
    submitRun(elm.getAttribute("data-pattern"), JSON.parse(elm.getAttribute("data-inputs"))).then(function (res) {
      if (!res.ok) { flash(problemText(res)); return; }
      location.replace("/portfolios/" + pf + "?view=" + encodeURIComponent(view) + "&run=" + res.json.run_id);
    });
  }

  function renderCheck(box, j) {
    box.textContent = "";
    box.appendChild(el("p", { "id": "check-verdict", "class": j.valid ? "" : "error" }, j.valid ? "The arguments are valid." : "The arguments are not valid:"));
    if (j.problems.length) {
      var ul = el("ul", { "class": "problems" });
      j.problems.forEach(function (p) { ul.appendChild(el("li", {}, (p.field || "(arguments)") + ": " + p.message + " [" + p.code + "]")); });
      box.appendChild(ul);
    }
    if (j.diff.length) {
      var t = el("table", { "class": "grid diff", "id": "diff" });
      t.appendChild(el("caption", {}, "Changes from the dead letter's arguments"));
      var tb = el("tbody");
      j.diff.forEach(function (c) {
        var tr = el("tr");
        tr.appendChild(el("th", { scope: "row" }, c.path));
        tr.appendChild(el("td", { "class": "from" }, c.from === undefined ? "(absent)" : "− " + JSON.stringify(c.from)));
        tr.appendChild(el("td", { "class": "to" }, c.to === undefined ? "(removed)" : "+ " + JSON.stringify(c.to)));
        tb.appendChild(tr);
      });
      t.appendChild(tb); box.appendChild(t);
    } else {
      box.appendChild(el("p", { "class": "muted" }, "No change: the step is replayed with its arguments."));
    }
  }

  function parseArgs() {
    try { return { args: JSON.parse(document.getElementById("args").value) }; } catch (e) { return { error: "The arguments are not JSON: " + e.message }; }
  }

  var handlers = {
    "cancel": function (b) {
      api("POST", "/v1/runs/" + b.getAttribute("data-run-id") + "/cancel").then(function (res) { flash(res.ok ? "Canceled." : problemText(res)); });
    },
    "reset-breaker": function (b) { breakerAction(b, "reset", "reset"); },
    "open-breaker": function (b) { breakerAction(b, "open", "forced open"); },
    "check-replay": function (b) {
      var box = document.getElementById("check-result"), dl = b.closest("[data-dl]").getAttribute("data-dl");
      var p = parseArgs(); var replay = document.getElementById("replay");
      // No verdict of an earlier check may stand for these arguments.
      replay.disabled = true; box.textContent = "Checking…";
      if (p.error) { box.textContent = p.error; return; }
      api("POST", "/dlq/" + dl + "/check", { args: p.args }).then(function (res) {
        if (!res.ok) { box.textContent = problemText(res); replay.disabled = true; return; }
        renderCheck(box, res.json);
        replay.disabled = !res.json.valid;
        replay.setAttribute("data-changed", res.json.changed ? "1" : "");
      });
    },
    "replay": function (b) {
      var sec = b.closest("[data-dl]"), dl = sec.getAttribute("data-dl"), out = document.getElementById("replay-result");
      var p = parseArgs(); if (p.error) { out.textContent = p.error; return; }
      var body = { token: sec.getAttribute("data-token") || token() };
      sec.setAttribute("data-token", body.token);
      if (b.getAttribute("data-changed")) { body.args = p.args; }
      b.disabled = true;
      api("POST", "/v1/dlq/" + dl + "/replay", body).then(function (res) {
        out.textContent = "";
        if (!res.ok) { out.textContent = problemText(res); b.disabled = false; return; }
        out.appendChild(el("p", { id: "replayed" }, "Replayed as attempt " + res.json.attempt + " (" + res.json.outcome + "). "));
        var run = document.getElementById("dl-run");
        if (run) { var a = el("a", { href: run.getAttribute("href"), id: "replayed-run" }, "Follow the run"); out.appendChild(a); }
      });
    },
    "bulk-preview": function (b) {
      var box = b.closest(".bulk"); box.querySelector(".bulk-preview").hidden = false; b.hidden = true;
      box.querySelector("[data-action=bulk-replay]").focus();
    },
    "bulk-cancel": function (b) {
      var box = b.closest(".bulk"); box.querySelector(".bulk-preview").hidden = true;
      var p = box.querySelector("[data-action=bulk-preview]"); p.hidden = false; p.focus();
    },
    "bulk-replay": function (b) {
      var box = b.closest(".bulk"), ids = box.getAttribute("data-ids").split(" ").filter(Boolean);
      var table = box.querySelector(".bulk-results"), tb = table.querySelector("tbody");
      table.hidden = false; b.disabled = true;
      var done = 0, failed = 0;
      function next() {
        var id = ids.shift();
        if (!id) { flash("Bulk replay: " + done + " replayed, " + failed + " refused."); return; }
        api("POST", "/v1/dlq/" + id + "/replay", { token: token() }).then(function (res) {
          var tr = el("tr", { "data-result": res.ok ? "ok" : "error" });
          var td = el("td"); td.appendChild(el("a", { href: "/dlq/" + id }, id.slice(0, 8))); tr.appendChild(td);
          tr.appendChild(el("td", {}, res.ok ? "replayed, attempt " + res.json.attempt : problemText(res)));
          tb.appendChild(tr);
          if (res.ok) { done++; } else { failed++; }
          next();
        });
      }
      next();
    },
    "recompute": function (b) { portfolioRun(b); }
  };

  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-action]");
    if (b && handlers[b.getAttribute("data-action")]) { e.preventDefault(); handlers[b.getAttribute("data-action")](b); }
  });

  function runForm(form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var inputs = {}, bad = null;
      form.querySelectorAll("[data-input]").forEach(function (f) {
        var name = f.getAttribute("data-input"), kind = f.getAttribute("data-kind"), c = f.querySelector("input,select,textarea");
        if (kind === "checkbox") { inputs[name] = c.checked; return; }
        var v = c.value.trim(); if (v === "") { return; }
        if (kind === "number") { inputs[name] = Number(v); return; }
        if (kind === "json") { try { inputs[name] = JSON.parse(v); } catch (err) { bad = name + " is not JSON"; } return; }
        if (c.tagName === "SELECT") { try { inputs[name] = JSON.parse(v); } catch (err) { inputs[name] = v; } return; }
        inputs[name] = v;
      });
      var out = document.getElementById("run-result");
      if (bad) { out.textContent = bad; return; }
      submitRun(form.getAttribute("data-pattern"), inputs).then(function (res) {
        if (!res.ok) { out.textContent = problemText(res); return; }
        location.assign("/runs/" + res.json.run_id);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var run = document.getElementById("run");
    if (run && run.hasAttribute("data-live")) { runPage(run); }
    if (document.getElementById("runs")) { runsList(); }
    var form = document.getElementById("run-form"); if (form) { runForm(form); }
    var auto = document.getElementById("autosubmit"); if (auto) { portfolioRun(auto); }
  });
})();
