// The console's live audit page (views/console/audit-live.html): follows the admin API's server-sent events
// (GET /admin/t/<tenant>/audit/stream, authenticated by the console session cookie, decided by the admin API's own
// access rules) and lists each entry as it arrives, newest first. A static file: the CSP allows no inline script.
// Each entry is <li class="audit-entry" data-seq data-type data-agent data-subject> in <ul id="live-entries">;
// the browser's EventSource reconnects by itself and resumes after the last entry (Last-Event-ID).
(function () {
  'use strict';
  var list = document.getElementById('live-entries');
  if (!list) {
    return;
  }
  var status = document.getElementById('live-status');
  var KEEP = 500;

  function say(state) {
    if (status) {
      status.textContent = status.getAttribute('data-' + state) || state;
      status.setAttribute('data-state', state);
    }
  }

  function part(cls, text) {
    var s = document.createElement(cls === 'type' || cls === 'subject' || cls === 'agent' ? 'code' : 'span');
    s.className = cls;
    s.textContent = text;
    return s;
  }

  function show(entry) {
    var li = document.createElement('li');
    li.className = 'audit-entry';
    li.setAttribute('data-seq', String(entry.seq));
    li.setAttribute('data-type', entry.type || '');
    li.setAttribute('data-agent', entry.agent_id || '');
    li.setAttribute('data-subject', entry.subject || '');
    var link = document.createElement('a');
    link.href = list.getAttribute('data-entry-base') + encodeURIComponent(String(entry.seq));
    link.textContent = '#' + entry.seq;
    li.appendChild(link);
    li.appendChild(part('time', entry.time || ''));
    li.appendChild(part('type', entry.type || ''));
    li.appendChild(part('outcome', entry.outcome || ''));
    if (entry.subject) {
      li.appendChild(part('subject', entry.subject));
    }
    if (entry.actor || entry.agent_id) {
      li.appendChild(part('agent', entry.actor || entry.agent_id));
    }
    list.insertBefore(li, list.firstChild);
    while (list.children.length > KEEP) {
      list.removeChild(list.lastChild);
    }
  }

  if (!window.EventSource) {
    say('unsupported');
    return;
  }
  var source = new EventSource(list.getAttribute('data-stream'));
  source.addEventListener('open', function () {
    say('connected');
  });
  source.addEventListener('error', function () {
    say(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
  });
  source.addEventListener('audit', function (event) {
    var entry;
    try {
      entry = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    if (entry && entry.seq !== undefined && !list.querySelector('li[data-seq="' + String(entry.seq) + '"]')) {
      show(entry);
    }
  });
  window.addEventListener('pagehide', function () {
    source.close();
  });
})();
