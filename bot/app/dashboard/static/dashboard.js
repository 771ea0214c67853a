// Live updates for the dashboard: plain JavaScript, no build step.
// Every value from the server is set as textContent or an attribute, never as HTML.
(function () {
  "use strict";

  var DEFAULT_POLL_MS = 2000;

  function pollMs(element) {
    var value = parseInt(element.getAttribute("data-poll-ms"), 10);
    return value > 0 ? value : DEFAULT_POLL_MS;
  }

  // Ask `element`'s data-source for JSON every data-poll-ms (read afresh each time), and
  // hand it to `apply`; `apply` returns false to stop. A 401 (signed out) stops too.
  function poll(element, apply) {
    var source = element.getAttribute("data-source");
    if (!source) return;
    function tick() {
      fetch(source, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (response.status === 401) return null;
          if (!response.ok) return undefined;
          return response.json();
        })
        .then(function (data) {
          if (data === null) return;
          if (data === undefined || apply(data) !== false) schedule();
        })
        .catch(schedule);
    }
    function schedule() {
      window.setTimeout(tick, pollMs(element));
    }
    schedule();
  }

  function cell(name, text) {
    var td = document.createElement("td");
    td.className = name;
    td.textContent = text;
    return td;
  }

  function link(className, href, text) {
    var a = document.createElement("a");
    if (className) a.className = className;
    a.href = href;
    a.textContent = text;
    return a;
  }

  function newRow(row) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-review-id", row.id);
    tr.setAttribute("data-status", row.status);
    tr.appendChild(cell("repository", row.repository));
    var pr = cell("pr", "");
    var prLink = link("", row.pr_url, row.pr);
    prLink.rel = "noreferrer";
    pr.appendChild(prLink);
    tr.appendChild(pr);
    var head = cell("head", "");
    head.appendChild(link("review-link", row.url, row.head));
    tr.appendChild(head);
    tr.appendChild(cell("trigger", row.trigger));
    tr.appendChild(cell("status", row.status));
    var started = cell("started", "");
    var time = document.createElement("time");
    time.setAttribute("datetime", row.started_at);
    time.textContent = row.started;
    started.appendChild(time);
    tr.appendChild(started);
    ["duration", "findings", "tokens", "cost"].forEach(function (name) {
      tr.appendChild(cell(name, row[name]));
    });
    return tr;
  }

  function setText(parent, selector, text) {
    var element = parent.querySelector(selector);
    if (element && element.textContent !== text) element.textContent = text;
  }

  function updateRow(tr, row) {
    if (tr.getAttribute("data-status") !== row.status) tr.setAttribute("data-status", row.status);
    ["status", "duration", "findings", "tokens", "cost"].forEach(function (name) {
      setText(tr, "td." + name, row[name]);
    });
  }

  function liveList(table) {
    var body = table.tBodies[0];
    var addNew = table.getAttribute("data-live-new") === "true";
    poll(table, function (data) {
      var known = {};
      Array.prototype.forEach.call(body.rows, function (tr) {
        known[tr.getAttribute("data-review-id")] = tr;
      });
      var fresh = [];
      data.rows.forEach(function (row) {
        if (known[row.id]) updateRow(known[row.id], row);
        else if (addNew) fresh.push(row);
      });
      // The JSON is newest first: insert the oldest of the new rows first, each at the top.
      for (var i = fresh.length - 1; i >= 0; i--) {
        body.insertBefore(newRow(fresh[i]), body.firstChild);
      }
      if (fresh.length) {
        var empty = document.getElementById("empty");
        if (empty) empty.remove();
      }
    });
  }

  function newEvent(event) {
    var li = document.createElement("li");
    li.className = "event";
    li.setAttribute("data-status", event.status);
    var time = document.createElement("time");
    time.setAttribute("datetime", event.at_iso);
    time.textContent = event.at;
    li.appendChild(time);
    function span(className, text) {
      var s = document.createElement("span");
      s.className = className;
      s.textContent = text;
      li.appendChild(document.createTextNode(" "));
      li.appendChild(s);
      return s;
    }
    span("event-status", event.status);
    span("attempt", "attempt " + event.attempt);
    if (event.error) span("event-error", event.error);
    if (event.superseded_url) {
      var s = span("superseded", "superseded by ");
      s.appendChild(link("superseded-by", event.superseded_url, event.superseded_by));
    }
    return li;
  }

  function liveTimeline(list) {
    if (list.getAttribute("data-finished") === "true") return;
    poll(list, function (data) {
      var items = list.querySelectorAll("li.event");
      for (var i = items.length; i < data.events.length; i++) {
        list.appendChild(newEvent(data.events[i]));
      }
      var review = document.getElementById("review");
      if (review) {
        review.setAttribute("data-status", data.status);
        setText(review, "dd.status", data.row.status);
        setText(review, "dd.duration", data.row.duration);
        setText(review, "dd.tokens", data.row.tokens);
        setText(review, "dd.cost", data.row.cost);
      }
      if (data.finished) {
        list.setAttribute("data-finished", "true");
        window.location.reload(); // the findings and calls are complete now
        return false;
      }
      return true;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var table = document.getElementById("reviews");
    if (table) liveList(table);
    var timeline = document.getElementById("timeline");
    if (timeline) liveTimeline(timeline);
  });
})();
