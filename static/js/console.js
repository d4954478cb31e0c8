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
      } } }, H.t('Dismiss')));
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

  /* Send one command; its buttons wait in a loading state; an error ack is said aloud, after
     `failure` (what could not be done, already in this page's language). */
  function run(key, event, payload, failure) {
    if (inflight[key]) return Promise.resolve(null);
    setBusy(key, true);
    return H.call(socket, event, payload).then(function (ack) {
      setBusy(key, false);
      if (!ack.ok) {
        var err = ack.error || {};
        say(H.t('{what}: {reason}', { what: failure, reason: err.message || err.code || H.t('unknown error') }) +
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
      on: { click: function () { run(key, event, payload, opts.failure || H.t('Could not do that')); } }
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

  var STATES = { pending: H.t('Not started'), preview: H.t('Preview showing'),
    open: H.t('Open: taking answers'), closed: H.t('Closed') };

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
        node.appendChild(h('p', { class: 'lead' }, H.t('This session has ended.')));
        return;
      }
      if (phase === 'grounding') {
        node.appendChild(h('p', { class: 'grounding-note' },
          H.t('Grounding break: every screen and phone shows the calm guide. The timer waits. ' +
          'End it with the button at the top when the group is ready.')));
      }
      if (!a) {
        node.appendChild(h('h3', {}, H.t('Lobby')));
        node.appendChild(h('p', {}, H.t('The screen shows the room code and the QR code.') + ' ' +
          H.tn('{n} person has arrived.', '{n} people have arrived.', state.arrived || 0)));
        var first = state.agenda && state.agenda[0];
        if (first) {
          node.appendChild(h('div', { class: 'actions' },
            button(H.t('Preview “{title}”', { title: first.title }), 'show_activity:' + first.id, 'show_activity',
              { activity_id: first.id }, { primary: true, failure: H.t('Could not show the preview') })));
        } else {
          node.appendChild(h('p', { class: 'muted' }, H.t('This session has no activities planned.')));
        }
        return;
      }
      var item = agendaItem(a.id) || {};
      var total = (state.agenda || []).length;
      node.appendChild(h('p', { class: 'now-meta' },
        H.t('Activity {n} of {total}', { n: a.position, total: total }) + ' · ' +
        (H.KINDS[a.kind] || a.kind) + ' · ' + H.t('Rung {n} of 5', { n: a.intensity }) + ' · ',
        h('strong', {}, STATES[a.state] || a.state),
        a.round ? ' · ' + H.t('Round {n}', { n: a.round }) : ''));
      node.appendChild(h('h3', { class: 'now-title' }, a.title));
      if (a.text) node.appendChild(h('p', { class: 'guidance' }, a.text));
      if (a.preview) {
        node.appendChild(h('p', { class: 'muted' }, h('strong', {}, H.t('Preview:') + ' '), a.preview));
      }
      if (a.timer && a.state !== 'closed') {
        var row = h('div', { class: 'timer-row' },
          h('span', { class: 'countdown', role: 'timer', 'data-timer': '' }));
        if (a.timer.running) {
          row.appendChild(button(H.t('Pause timer'), 'timer:pause', 'control_timer',
            { activity_id: a.id, action: 'pause' }, { failure: H.t('Could not pause the timer') }));
        } else {
          row.appendChild(button(H.t('Start timer'), 'timer:start', 'control_timer',
            { activity_id: a.id, action: 'start' }, { failure: H.t('Could not start the timer') }));
        }
        row.appendChild(button(H.t('+1 minute'), 'timer:add', 'control_timer',
          { activity_id: a.id, action: 'add_minute' }, { failure: H.t('Could not add a minute') }));
        node.appendChild(row);
      } else if (a.state === 'open') {
        node.appendChild(h('div', { class: 'timer-row' }, button(H.t('Start a timer'), 'timer:start',
          'control_timer', { activity_id: a.id, action: 'start' }, { failure: H.t('Could not start the timer') })));
      }
      var actions = h('div', { class: 'actions' });
      if (a.state === 'pending') {
        actions.appendChild(button(H.t('Show preview'), 'show_activity:' + a.id, 'show_activity',
          { activity_id: a.id }, { failure: H.t('Could not show the preview') }));
      }
      if (a.kind === 'dyads') {
        actions.appendChild(button(a.round ? H.t('Next round of pairs') : H.t('Form pairs'), 'form_dyads:' + a.id,
          'form_dyads', { activity_id: a.id }, { primary: a.state !== 'closed', failure: H.t('Could not form pairs') }));
      }
      if (a.state === 'pending' || a.state === 'preview') {
        actions.appendChild(button(H.t('Start'), 'open_activity:' + a.id, 'open_activity',
          { activity_id: a.id }, { primary: a.kind !== 'dyads', failure: H.t('Could not start'), context: '“' + a.title + '”' }));
      } else if (a.state === 'open') {
        actions.appendChild(button(H.t('Close'), 'close_activity:' + a.id, 'close_activity',
          { activity_id: a.id }, { primary: true, failure: H.t('Could not close'), context: '“' + a.title + '”' }));
      } else if (a.state === 'closed') {
        actions.appendChild(button(H.t('Re-open'), 'open_activity:' + a.id, 'open_activity',
          { activity_id: a.id }, { failure: H.t('Could not re-open') }));
      }
      var mood = a.kind === 'check_in' || a.kind === 'check_out';
      if (mood && item.hold_results && !item.revealed) {
        actions.appendChild(button(H.t('Reveal results'), 'reveal_results:' + a.id, 'reveal_results',
          { activity_id: a.id }, { primary: a.state === 'closed', failure: H.t('Could not reveal the results') }));
      } else if (mood && item.revealed) {
        actions.appendChild(h('span', { class: 'badge' }, H.t('Results revealed')));
      }
      node.appendChild(actions);
      if (a.kind === 'dyads' && state.pairs && state.pairs.length) {
        node.appendChild(h('h4', {}, H.t('Pairs, round {n}', { n: a.round })));
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
      if (!a) { node.appendChild(h('p', { class: 'muted' }, H.t('No activity yet.'))); return; }
      node.appendChild(H.renderResults(state.results, a, { audience: 'console', level: 3 }));
      if (texts.length) {
        node.appendChild(h('h3', {}, H.t('Approved texts on the screen')));
        node.appendChild(h('ul', { class: 'mini-cards' }, texts.map(function (t) {
          return h('li', {}, t.text);
        })));
      }
      if (data.apps && data.apps.length) {
        node.appendChild(h('h3', {}, H.t('Approved appreciations on the screen')));
        node.appendChild(h('ul', { class: 'mini-cards' }, data.apps.map(function (x) {
          return h('li', {}, x.text, h('span', { class: 'muted' }, ' — ' +
            (x.signature ? H.t('to {to}, from {from}', { to: x.to || H.t('the whole group'), from: x.signature })
              : H.t('to {to}', { to: x.to || H.t('the whole group') }))));
        })));
      }
      if (a.kind === 'questionnaire') {
        node.appendChild(h('p', { class: 'muted' }, H.t('Questionnaire scores appear in the summary after the session.')));
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
            h('span', { class: 'muted' }, ' ' + (H.KINDS[item.kind] || item.kind) + ' · ' +
              H.t('rung {n}', { n: item.intensity }) +
              (item.timer_seconds ? ' · ' + H.formatClock(item.timer_seconds) : '')),
            ' ',
            isNow ? h('span', { class: 'badge now-badge' }, H.t('Now')) : null,
            ' ',
            h('span', { class: 'badge' }, STATES[item.state] || item.state)),
          h('div', { class: 'agenda-actions' },
            item.state !== 'open' && !isNow ? button(H.t('Preview'), 'show_activity:' + item.id, 'show_activity',
              { activity_id: item.id }, { failure: H.t('Could not show the preview'), context: '“' + item.title + '”' }) : null,
            item.state !== 'open' ? button(item.state === 'closed' ? H.t('Re-open') : H.t('Start'),
              'open_activity:' + item.id, 'open_activity',
              { activity_id: item.id }, { failure: H.t('Could not start'), context: '“' + item.title + '”' }) : null));
          node.appendChild(li);
        });
      });
  }

  // --- attendance -----------------------------------------------------------------------------

  var STATUS_LABELS = { present: H.t('Present'), late: H.t('Late'), absent: H.t('Absent'),
    excused: H.t('Excused') };

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
    els.summary.textContent = H.t('{n} here', { n: here }) +
      (away ? ' (' + H.t('{n} with no phone connected', { n: away }) + ')' : '') +
      ' · ' + H.t('{n} not marked', { n: unmarked });
    redraw('attendance', els.attendance, rows, function (node) {
      rows.forEach(function (r) {
        var key = 'attendance:' + r.member_id;
        var select = h('select', { id: 'att-' + r.member_id, 'data-key': key,
          on: { change: function () {
            var previous = r.status;
            run(key, 'set_attendance', { member_id: r.member_id, status: select.value },
              H.t('Could not change the attendance of {name}', { name: r.name })).then(function (ack) {
              if (ack && !ack.ok) { select.value = previous || ''; }
            });
          } } },
        r.status ? null : h('option', { value: '', selected: true, disabled: true }, H.t('Not marked')),
        Object.keys(STATUS_LABELS).map(function (s) {
          return h('option', { value: s, selected: r.status === s }, STATUS_LABELS[s]);
        }));
        select.disabled = !!inflight[key] || !socket.connected || ended;
        node.appendChild(h('tr', {},
          h('th', { scope: 'row' }, r.name, r.guest ? h('span', { class: 'muted' }, ' (' + H.t('guest') + ')') : null),
          h('td', { 'data-label': H.t('Status') },
            h('label', { class: 'visually-hidden', for: 'att-' + r.member_id }, H.t('Attendance of {name}', { name: r.name })),
            select),
          h('td', { 'data-label': H.t('Phone') }, r.connected
            ? h('span', { class: 'presence on' }, '● ' + H.t('connected'))
            : h('span', { class: 'presence off' }, '○ ' + H.t('away'))),
          h('td', { 'data-label': H.t('Arrived') }, r.arrived_at ? timeOf(r.arrived_at) : '—',
            r.status === 'late' ? h('span', { class: 'badge late' }, ' ' + H.t('late')) : null)));
      });
    });
  }

  // --- moderation -----------------------------------------------------------------------------

  function drawModeration() {
    var items = state.moderation || [];
    els.modCount.textContent = String(items.length);
    redraw('moderation', els.moderation, items, function (node) {
      if (!items.length) {
        node.appendChild(h('li', { class: 'muted empty' }, H.t('Nothing waiting.')));
        return;
      }
      items.forEach(function (item) {
        var activity = agendaItem(item.activity_id);
        var to = item.to || H.t('the whole group');
        var about = item.kind === 'appreciation'
          ? (item.signature ? H.t('Appreciation to {to}, signed {name}', { to: to, name: item.signature })
            : H.t('Appreciation to {to}, unsigned', { to: to }))
          : H.t('Text for “{title}”', { title: activity ? activity.title : H.t('an activity') });
        var key = 'moderate:' + item.kind + ':' + item.id;
        node.appendChild(h('li', { class: 'mod-item' },
          h('p', { class: 'mod-about' }, about),
          h('blockquote', {}, item.text),
          h('div', { class: 'actions' },
            button(H.t('Approve'), key, 'moderate', { kind: item.kind, id: item.id, decision: 'approve' },
              { primary: true, failure: H.t('Could not approve'), context: H.t('this text') }),
            button(H.t('Reject'), key, 'moderate', { kind: item.kind, id: item.id, decision: 'reject' },
              { failure: H.t('Could not reject'), context: H.t('this text') }))));
      });
    });
  }

  // --- pauses ---------------------------------------------------------------------------------

  function pauseText(p) {
    return p.check_in_with ? H.t('Check in with {name}', { name: p.check_in_with }) : H.t('Someone needs a pause');
  }

  function drawPauses() {
    var pauses = state.pauses || [];
    var open = pauses.filter(function (p) { return !p.acknowledged; });
    var done = pauses.filter(function (p) { return p.acknowledged; });
    els.pauses.hidden = pauses.length === 0;
    els.pauses.classList.toggle('has-open', open.length > 0);
    document.title = (open.length ? '(' + open.length + ') ' + H.t('Pause requested') + ' · ' : '') + baseTitle;
    if (seenPauses) {
      var fresh = open.filter(function (p) { return !seenPauses[p.id]; });
      if (fresh.length) {
        els.pauseAlert.textContent = H.t('Pause request: {what}.', { what: fresh.map(pauseText).join('; ') });
      }
    }
    seenPauses = {};
    pauses.forEach(function (p) { seenPauses[p.id] = true; });
    redraw('pauses', els.pauseOpen, open, function (node) {
      open.forEach(function (p) {
        node.appendChild(h('li', { class: 'pause-item' },
          h('span', { class: 'pause-icon', 'aria-hidden': 'true' }, '‖'),
          h('span', { class: 'pause-text' }, pauseText(p), h('span', { class: 'muted' }, ' · ' + timeOf(p.at))),
          button(H.t('Acknowledge'), 'pause:' + p.id, 'acknowledge_pause', { id: p.id },
            { primary: true, failure: H.t('Could not acknowledge'),
              context: H.t('{what} at {time}', { what: pauseText(p), time: timeOf(p.at) }) })));
      });
    });
    els.pauseDoneWrap.hidden = done.length === 0;
    els.pauseDoneCount.textContent = '(' + done.length + ')';
    redraw('pausesDone', els.pauseDone, done, function (node) {
      done.forEach(function (p) {
        node.appendChild(h('li', {}, pauseText(p) + ' · ' + timeOf(p.at) + ' · ' + H.t('acknowledged')));
      });
    });
  }

  // --- the top bar ----------------------------------------------------------------------------

  function drawBar() {
    var grounding = state.session.phase === 'grounding';
    var g = els.grounding;
    g.setAttribute('data-key', 'grounding');
    g.textContent = grounding ? H.t('End the grounding break') : H.t('Grounding break');
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
          on ? H.t('Could not end the grounding break') : H.t('Could not start the grounding break'));
      } else if (key === 'previous_activity') {
        run(key, 'previous_activity', {}, H.t('Could not go back'));
      } else if (key === 'next_activity') {
        run(key, 'next_activity', {}, H.t('Could not go on'));
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
    }).catch(function () { return { ok: false, body: { error: { message: H.t('The server could not be reached.') } } }; });
    H.busy(els.tvButton, request).then(function (result) {
      if (!result.ok) {
        var err = result.body.error || {};
        say(H.t('{what}: {reason}', { what: H.t('Could not make a screen code'),
          reason: err.message || H.t('unknown error') }), 'error');
        return;
      }
      var minutes = Math.round((result.body.expires_in || 600) / 60);
      H.fill(els.tvCode,
        h('p', {}, H.t('On the TV, open this address and type the code below:') + ' ',
          h('strong', { class: 'url' }, root.getAttribute('data-pair-url'))),
        h('p', { class: 'tv-code-value' }, result.body.code),
        h('p', { class: 'hint' }, H.tn('It works once, for {n} minute. The TV then shows the screen until the session ends.',
          'It works once, for {n} minutes. The TV then shows the screen until the session ends.', minutes)));
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
      say(H.t('This session has ended.'), 'info');
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
    H.fill(els.messages, h('p', { class: 'console-message error' }, H.t('Your sign-in ended.') + ' ',
      h('a', { href: root.getAttribute('data-login-url') }, H.t('Sign in again to go on.'))));
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
      say(H.t('The console could not connect: {reason} Reload to try again.',
        { reason: refused.message || H.t('refused') }), 'error');
      if (refused.code === 'not_authenticated') signedOut();
    }
  });
})();
