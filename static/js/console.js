/* Hearth facilitator console: steer the live session, moderate texts, see pauses and attendance. */
(function () {
  'use strict';
  var H = window.Hearth;
  var h = H.h;
  var root = H.$('#console');
  if (!root) return;

  var sessionId = parseInt(root.getAttribute('data-session-id'), 10);
  var csrf = H.$('meta[name="csrf-token"]').getAttribute('content');
  var state = null;
  var drawn = {};           // section name -> JSON of what it last drew (skip identical redraws)
  var inflight = {};        // button key -> true while its command waits for an ack
  var seenPauses = null;    // pause ids seen so far (null until the first snapshot)
  var baseTitle = document.title;
  var ended = false;

  var els = {
    conn: H.$('#conn'), messages: H.$('#messages'), now: H.$('#now'), results: H.$('#results'),
    agenda: H.$('#agenda'), attendance: H.$('#attendance'), summary: H.$('#attendance-summary'),
    moderation: H.$('#moderation'), modCount: H.$('#moderation-count'), pauses: H.$('#pauses'),
    pauseOpen: H.$('#pause-open'), pauseDone: H.$('#pause-done'), pauseDoneWrap: H.$('#pause-done-wrap'),
    pauseDoneCount: H.$('#pause-done-count'), pauseAlert: H.$('#pause-alert'),
    grounding: H.$('#grounding-button'), tvButton: H.$('#tv-button'), tvCode: H.$('#tv-code'),
    roomCode: H.$('#room-code')
  };

  var socket = H.connect(function () { return { role: 'console', session_id: sessionId }; });
  H.watchConnection(socket, els.conn);

  // --- messages -------------------------------------------------------------------------------

  function say(text, kind) {
    H.$$('.console-message', els.messages).forEach(function (old) {
      if (old.firstChild && old.firstChild.nodeValue === text) old.parentNode.removeChild(old);
    });
    var item = h('p', { class: ['console-message', kind || 'info'] }, text,
      h('button', { type: 'button', class: 'link-button', on: { click: function () {
        if (item.parentNode) item.parentNode.removeChild(item);
      } } }, 'Dismiss'));
    els.messages.appendChild(item);
    while (els.messages.children.length > 4) els.messages.removeChild(els.messages.firstChild);
    if (kind !== 'error') {
      setTimeout(function () { if (item.parentNode) item.parentNode.removeChild(item); }, 8000);
    }
  }

  // --- commands -------------------------------------------------------------------------------

  function setBusy(key, busy) {
    if (busy) inflight[key] = true; else delete inflight[key];
    H.$$('[data-key="' + key + '"]').forEach(function (b) {
      b.disabled = busy || !socket.connected || ended;
      if (busy) b.setAttribute('aria-busy', 'true'); else b.removeAttribute('aria-busy');
      b.classList.toggle('is-busy', busy);
    });
  }

  /* Send one command; its buttons wait in a loading state; an error ack is said aloud. */
  function run(key, event, payload, label) {
    if (inflight[key]) return Promise.resolve(null);
    setBusy(key, true);
    return H.call(socket, event, payload).then(function (ack) {
      setBusy(key, false);
      if (!ack.ok) {
        var err = ack.error || {};
        say('Could not ' + label + ': ' + (err.message || err.code || 'unknown error') +
          (err.fields ? ' (' + Object.keys(err.fields).join(', ') + ')' : ''), 'error');
        if (err.code === 'not_authenticated') signedOut();
      }
      return ack;
    });
  }

  function button(label, key, event, payload, opts) {
    opts = opts || {};
    var b = h('button', {
      type: 'button', 'data-key': key,
      class: ['button', opts.primary ? 'primary' : 'secondary', opts.className],
      on: { click: function () { run(key, event, payload, opts.verb || label.toLowerCase()); } }
    }, label, opts.context ? h('span', { class: 'visually-hidden' }, ' ' + opts.context) : null);
    b.disabled = !!inflight[key] || !socket.connected || ended;
    return b;
  }

  /* Redraw a section only when its data changed, keeping keyboard focus on the same control. */
  function redraw(name, node, data, draw) {
    var json = JSON.stringify(data);
    if (drawn[name] === json) return;
    drawn[name] = json;
    var active = document.activeElement;
    var focusKey = active && node.contains(active) ? active.getAttribute('data-key') : null;
    H.clear(node);
    draw(node);
    if (focusKey) {
      var again = node.querySelector('[data-key="' + focusKey + '"]');
      if (again && !again.disabled) again.focus();
    }
  }

  // --- the current activity -------------------------------------------------------------------

  var STATES = { pending: 'Not started', preview: 'Preview showing', open: 'Open: taking answers',
    closed: 'Closed' };

  function agendaItem(id) {
    var list = (state && state.agenda) || [];
    for (var i = 0; i < list.length; i++) if (list[i].id === id) return list[i];
    return null;
  }

  function timerKey(timer) {
    if (!timer) return null;
    return { deadline: timer.deadline, running: timer.running, seconds: timer.seconds,
      remaining: timer.running ? null : timer.remaining };
  }

  function drawNow() {
    var phase = state.session.phase;
    var a = state.activity;
    var data = { phase: phase, a: a && Object.assign({}, a, { timer: timerKey(a.timer) }),
      item: a && agendaItem(a.id), pairs: state.pairs, first: state.agenda && state.agenda[0],
      arrived: state.arrived };
    redraw('now', els.now, data, function (node) {
      if (phase === 'closed') {
        node.appendChild(h('p', { class: 'lead' }, 'This session has ended.'));
        return;
      }
      if (phase === 'grounding') {
        node.appendChild(h('p', { class: 'grounding-note' },
          'Grounding break: every screen and phone shows the calm guide. The timer waits. ' +
          'End it with the button at the top when the group is ready.'));
      }
      if (!a) {
        node.appendChild(h('h3', {}, 'Lobby'));
        node.appendChild(h('p', {}, 'The screen shows the room code and the QR code. ' +
          H.plural(state.arrived || 0, 'person has', 'people have') + ' arrived.'));
        var first = state.agenda && state.agenda[0];
        if (first) {
          node.appendChild(h('div', { class: 'actions' },
            button('Preview “' + first.title + '”', 'show_activity:' + first.id, 'show_activity',
              { activity_id: first.id }, { primary: true, verb: 'show the preview' })));
        } else {
          node.appendChild(h('p', { class: 'muted' }, 'This session has no activities planned.'));
        }
        return;
      }
      var item = agendaItem(a.id) || {};
      var total = (state.agenda || []).length;
      node.appendChild(h('p', { class: 'now-meta' },
        'Activity ' + a.position + ' of ' + total + ' · ' + (H.KINDS[a.kind] || a.kind) +
        ' · Rung ' + a.intensity + ' of 5 · ', h('strong', {}, STATES[a.state] || a.state),
        a.round ? ' · Round ' + a.round : ''));
      node.appendChild(h('h3', { class: 'now-title' }, a.title));
      if (a.text) node.appendChild(h('p', { class: 'guidance' }, a.text));
      if (a.preview) {
        node.appendChild(h('p', { class: 'muted' }, h('strong', {}, 'Preview: '), a.preview));
      }
      if (a.timer && a.state !== 'closed') {
        var row = h('div', { class: 'timer-row' },
          h('span', { class: 'countdown', role: 'timer', 'data-timer': '' }));
        if (a.timer.running) {
          row.appendChild(button('Pause timer', 'timer:pause', 'control_timer',
            { activity_id: a.id, action: 'pause' }, { verb: 'pause the timer' }));
        } else {
          row.appendChild(button('Start timer', 'timer:start', 'control_timer',
            { activity_id: a.id, action: 'start' }, { verb: 'start the timer' }));
        }
        row.appendChild(button('+1 minute', 'timer:add', 'control_timer',
          { activity_id: a.id, action: 'add_minute' }, { verb: 'add a minute' }));
        node.appendChild(row);
      } else if (a.state === 'open') {
        node.appendChild(h('div', { class: 'timer-row' }, button('Start a timer', 'timer:start',
          'control_timer', { activity_id: a.id, action: 'start' }, { verb: 'start the timer' })));
      }
      var actions = h('div', { class: 'actions' });
      if (a.state === 'pending') {
        actions.appendChild(button('Show preview', 'show_activity:' + a.id, 'show_activity',
          { activity_id: a.id }, { verb: 'show the preview' }));
      }
      if (a.kind === 'dyads') {
        actions.appendChild(button(a.round ? 'Next round of pairs' : 'Form pairs', 'form_dyads:' + a.id,
          'form_dyads', { activity_id: a.id }, { primary: a.state !== 'closed', verb: 'form pairs' }));
      }
      if (a.state === 'pending' || a.state === 'preview') {
        actions.appendChild(button('Start', 'open_activity:' + a.id, 'open_activity',
          { activity_id: a.id }, { primary: a.kind !== 'dyads', verb: 'start', context: '“' + a.title + '”' }));
      } else if (a.state === 'open') {
        actions.appendChild(button('Close', 'close_activity:' + a.id, 'close_activity',
          { activity_id: a.id }, { primary: true, verb: 'close', context: '“' + a.title + '”' }));
      } else if (a.state === 'closed') {
        actions.appendChild(button('Re-open', 'open_activity:' + a.id, 'open_activity',
          { activity_id: a.id }, { verb: 're-open' }));
      }
      var mood = a.kind === 'check_in' || a.kind === 'check_out';
      if (mood && item.hold_results && !item.revealed) {
        actions.appendChild(button('Reveal results', 'reveal_results:' + a.id, 'reveal_results',
          { activity_id: a.id }, { primary: a.state === 'closed', verb: 'reveal the results' }));
      } else if (mood && item.revealed) {
        actions.appendChild(h('span', { class: 'badge' }, 'Results revealed'));
      }
      node.appendChild(actions);
      if (a.kind === 'dyads' && state.pairs && state.pairs.length) {
        node.appendChild(h('h4', {}, 'Pairs, round ' + a.round));
        node.appendChild(h('ul', { class: 'pairs' }, state.pairs.map(function (group) {
          return h('li', {}, group.join(' & '));
        })));
      }
    });
    tick();
  }

  function drawResults() {
    var a = state.activity;
    var texts = (state.texts || []).filter(function (t) { return a && t.activity_id === a.id; });
    var data = { a: a && { id: a.id, kind: a.kind, state: a.state }, r: state.results, texts: texts,
      apps: a && a.kind === 'appreciation' ? state.appreciations : null };
    redraw('results', els.results, data, function (node) {
      if (!a) { node.appendChild(h('p', { class: 'muted' }, 'No activity yet.')); return; }
      node.appendChild(H.renderResults(state.results, a, { audience: 'console', level: 3 }));
      if (texts.length) {
        node.appendChild(h('h3', {}, 'Approved texts on the screen'));
        node.appendChild(h('ul', { class: 'mini-cards' }, texts.map(function (t) {
          return h('li', {}, t.text);
        })));
      }
      if (data.apps && data.apps.length) {
        node.appendChild(h('h3', {}, 'Approved appreciations on the screen'));
        node.appendChild(h('ul', { class: 'mini-cards' }, data.apps.map(function (x) {
          return h('li', {}, x.text, h('span', { class: 'muted' },
            ' — to ' + (x.to || 'the whole group') + (x.signature ? ', from ' + x.signature : '')));
        })));
      }
      if (a.kind === 'questionnaire') {
        node.appendChild(h('p', { class: 'muted' }, 'Questionnaire scores appear in the summary after the session.'));
      }
    });
  }

  // --- agenda ---------------------------------------------------------------------------------

  function drawAgenda() {
    var current = state.activity && state.activity.id;
    redraw('agenda', els.agenda, { agenda: state.agenda, current: current, phase: state.session.phase },
      function (node) {
        (state.agenda || []).forEach(function (item) {
          var isNow = item.id === current;
          var li = h('li', { class: ['agenda-item', isNow ? 'is-current' : '', 'state-' + item.state],
            'aria-current': isNow ? 'step' : null },
          h('div', { class: 'agenda-text' },
            h('strong', {}, item.title),
            h('span', { class: 'muted' }, ' ' + (H.KINDS[item.kind] || item.kind) + ' · rung ' +
              item.intensity + (item.timer_seconds ? ' · ' + H.formatClock(item.timer_seconds) : '')),
            ' ',
            isNow ? h('span', { class: 'badge now-badge' }, 'Now') : null,
            ' ',
            h('span', { class: 'badge' }, STATES[item.state] || item.state)),
          h('div', { class: 'agenda-actions' },
            item.state !== 'open' && !isNow ? button('Preview', 'show_activity:' + item.id, 'show_activity',
              { activity_id: item.id }, { verb: 'show the preview', context: '“' + item.title + '”' }) : null,
            item.state !== 'open' ? button(item.state === 'closed' ? 'Re-open' : 'Start',
              'open_activity:' + item.id, 'open_activity',
              { activity_id: item.id }, { verb: 'start', context: '“' + item.title + '”' }) : null));
          node.appendChild(li);
        });
      });
  }

  // --- attendance -----------------------------------------------------------------------------

  var STATUS_LABELS = { present: 'Present', late: 'Late', absent: 'Absent', excused: 'Excused' };

  function timeOf(iso) {
    var t = H.parseTime(iso);
    if (isNaN(t)) return '';
    var d = new Date(t);
    return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
  }

  function drawAttendance() {
    var rows = state.attendance || [];
    var here = rows.filter(function (r) { return r.status === 'present' || r.status === 'late'; }).length;
    var away = rows.filter(function (r) {
      return (r.status === 'present' || r.status === 'late') && !r.connected;
    }).length;
    var unmarked = rows.filter(function (r) { return !r.status; }).length;
    els.summary.textContent = here + ' here' + (away ? ' (' + away + ' with no phone connected)' : '') +
      ' · ' + unmarked + ' not marked';
    redraw('attendance', els.attendance, rows, function (node) {
      rows.forEach(function (r) {
        var key = 'attendance:' + r.member_id;
        var select = h('select', { id: 'att-' + r.member_id, 'data-key': key,
          on: { change: function () {
            var previous = r.status;
            run(key, 'set_attendance', { member_id: r.member_id, status: select.value },
              'change the attendance of ' + r.name).then(function (ack) {
              if (ack && !ack.ok) { select.value = previous || ''; }
            });
          } } },
        r.status ? null : h('option', { value: '', selected: true, disabled: true }, 'Not marked'),
        Object.keys(STATUS_LABELS).map(function (s) {
          return h('option', { value: s, selected: r.status === s }, STATUS_LABELS[s]);
        }));
        select.disabled = !!inflight[key] || !socket.connected || ended;
        node.appendChild(h('tr', {},
          h('th', { scope: 'row' }, r.name, r.guest ? h('span', { class: 'muted' }, ' (guest)') : null),
          h('td', { 'data-label': 'Status' },
            h('label', { class: 'visually-hidden', for: 'att-' + r.member_id }, 'Attendance of ' + r.name),
            select),
          h('td', { 'data-label': 'Phone' }, r.connected
            ? h('span', { class: 'presence on' }, '● connected')
            : h('span', { class: 'presence off' }, '○ away')),
          h('td', { 'data-label': 'Arrived' }, r.arrived_at ? timeOf(r.arrived_at) : '—',
            r.status === 'late' ? h('span', { class: 'badge late' }, ' late') : null)));
      });
    });
  }

  // --- moderation -----------------------------------------------------------------------------

  function drawModeration() {
    var items = state.moderation || [];
    els.modCount.textContent = String(items.length);
    redraw('moderation', els.moderation, items, function (node) {
      if (!items.length) {
        node.appendChild(h('li', { class: 'muted empty' }, 'Nothing waiting.'));
        return;
      }
      items.forEach(function (item) {
        var activity = agendaItem(item.activity_id);
        var about = item.kind === 'appreciation'
          ? 'Appreciation to ' + (item.to || 'the whole group') + (item.signature ? ', signed ' + item.signature : ', unsigned')
          : 'Text for “' + (activity ? activity.title : 'an activity') + '”';
        var key = 'moderate:' + item.kind + ':' + item.id;
        node.appendChild(h('li', { class: 'mod-item' },
          h('p', { class: 'mod-about' }, about),
          h('blockquote', {}, item.text),
          h('div', { class: 'actions' },
            button('Approve', key, 'moderate', { kind: item.kind, id: item.id, decision: 'approve' },
              { primary: true, verb: 'approve', context: 'this text' }),
            button('Reject', key, 'moderate', { kind: item.kind, id: item.id, decision: 'reject' },
              { verb: 'reject', context: 'this text' }))));
      });
    });
  }

  // --- pauses ---------------------------------------------------------------------------------

  function pauseText(p) {
    return p.check_in_with ? 'Check in with ' + p.check_in_with : 'Someone needs a pause';
  }

  function drawPauses() {
    var pauses = state.pauses || [];
    var open = pauses.filter(function (p) { return !p.acknowledged; });
    var done = pauses.filter(function (p) { return p.acknowledged; });
    els.pauses.hidden = pauses.length === 0;
    els.pauses.classList.toggle('has-open', open.length > 0);
    document.title = (open.length ? '(' + open.length + ') Pause requested · ' : '') + baseTitle;
    if (seenPauses) {
      var fresh = open.filter(function (p) { return !seenPauses[p.id]; });
      if (fresh.length) {
        els.pauseAlert.textContent = 'Pause request: ' + fresh.map(pauseText).join('; ') + '.';
      }
    }
    seenPauses = {};
    pauses.forEach(function (p) { seenPauses[p.id] = true; });
    redraw('pauses', els.pauseOpen, open, function (node) {
      open.forEach(function (p) {
        node.appendChild(h('li', { class: 'pause-item' },
          h('span', { class: 'pause-icon', 'aria-hidden': 'true' }, '‖'),
          h('span', { class: 'pause-text' }, pauseText(p), h('span', { class: 'muted' }, ' · ' + timeOf(p.at))),
          button('Acknowledge', 'pause:' + p.id, 'acknowledge_pause', { id: p.id },
            { primary: true, verb: 'acknowledge', context: pauseText(p) + ' at ' + timeOf(p.at) })));
      });
    });
    els.pauseDoneWrap.hidden = done.length === 0;
    els.pauseDoneCount.textContent = '(' + done.length + ')';
    redraw('pausesDone', els.pauseDone, done, function (node) {
      done.forEach(function (p) {
        node.appendChild(h('li', {}, pauseText(p) + ' · ' + timeOf(p.at) + ' · acknowledged'));
      });
    });
  }

  // --- the top bar ----------------------------------------------------------------------------

  function drawBar() {
    var grounding = state.session.phase === 'grounding';
    var g = els.grounding;
    g.setAttribute('data-key', 'grounding');
    g.textContent = grounding ? 'End the grounding break' : 'Grounding break';
    g.classList.toggle('is-on', grounding);
    g.setAttribute('aria-pressed', grounding ? 'true' : 'false');
    setBusy('grounding', !!inflight.grounding);
    setBusy('previous_activity', !!inflight.previous_activity);
    setBusy('next_activity', !!inflight.next_activity);
    if (state.session.join_code) els.roomCode.textContent = state.session.join_code;
  }

  H.$$('.console-bar [data-key]').forEach(function (b) {
    b.addEventListener('click', function () {
      var key = b.getAttribute('data-key');
      if (key === 'grounding') {
        var on = state && state.session.phase === 'grounding';
        run('grounding', on ? 'end_grounding' : 'start_grounding', {},
          on ? 'end the grounding break' : 'start the grounding break');
      } else if (key === 'previous_activity') {
        run(key, 'previous_activity', {}, 'go back');
      } else if (key === 'next_activity') {
        run(key, 'next_activity', {}, 'go on');
      }
    });
  });

  // --- TV pairing -----------------------------------------------------------------------------

  els.tvButton.addEventListener('click', function () {
    var request = fetch(root.getAttribute('data-screen-code-url'), {
      method: 'POST', credentials: 'same-origin',
      headers: { 'X-CSRFToken': csrf, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: '{}'
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return { ok: response.ok, body: body };
      });
    }).catch(function () { return { ok: false, body: { error: { message: 'The server could not be reached.' } } }; });
    H.busy(els.tvButton, request).then(function (result) {
      if (!result.ok) {
        var err = result.body.error || {};
        say('Could not make a screen code: ' + (err.message || 'unknown error'), 'error');
        return;
      }
      var minutes = Math.round((result.body.expires_in || 600) / 60);
      H.fill(els.tvCode,
        h('p', {}, 'On the TV, open ', h('strong', { class: 'url' }, root.getAttribute('data-pair-url')),
          ' and type this code:'),
        h('p', { class: 'tv-code-value' }, result.body.code),
        h('p', { class: 'hint' }, 'It works once, for ' + minutes + ' minutes. The TV then shows the ' +
          'screen until the session ends.'));
    });
  });

  // --- timer ticking --------------------------------------------------------------------------

  function tick() {
    var a = state && state.activity;
    H.$$('[data-timer]', els.now).forEach(function (node) { H.renderTimer(node, a && a.timer); });
  }
  setInterval(tick, 1000);

  // --- the socket -----------------------------------------------------------------------------

  function render() {
    if (!state || !state.session) return;
    if (state.session.phase === 'closed' && !ended) {
      ended = true;
      say('This session has ended.', 'info');
    }
    drawBar();
    drawPauses();
    drawNow();
    drawResults();
    drawAgenda();
    drawModeration();
    drawAttendance();
  }

  function refreshButtons() {
    drawn = {};
    if (state) render();
    ['grounding', 'previous_activity', 'next_activity'].forEach(function (k) { setBusy(k, !!inflight[k]); });
  }

  function signedOut() {
    ended = true;
    socket.disconnect();
    H.fill(els.messages, h('p', { class: 'console-message error' }, 'Your sign-in ended. ',
      h('a', { href: root.getAttribute('data-login-url') }, 'Sign in again'), ' to go on.'));
    refreshButtons();
  }

  socket.on('console_state', function (snapshot) {
    H.clock.sync(snapshot.server_now);
    state = snapshot;
    render();
  });
  socket.on('connect', refreshButtons);
  socket.on('disconnect', refreshButtons);
  socket.on('signed_out', signedOut);
  socket.on('connect_error', function (err) {
    var refused = H.refusal(socket, err);
    if (refused) {
      say('The console could not connect: ' + (refused.message || 'refused') + ' Reload to try again.', 'error');
      if (refused.code === 'not_authenticated') signedOut();
    }
  });
})();
