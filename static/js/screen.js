/* Hearth shared screen (projector or TV), and the TV's pairing form. Never shows a pass or a pause. */
(function () {
  'use strict';
  var H = window.Hearth;
  var h = H.h;
  var TOKEN_KEY = 'hearth.screen_token';
  var THEME_KEY = 'hearth.screen_theme';

  // --- the theme and full screen (both pages) ---------------------------------------------------

  function applyTheme(theme) {
    document.body.classList.toggle('theme-light', theme === 'light');
    document.body.classList.toggle('theme-dark', theme !== 'light');
    var button = H.$('#theme-button');
    if (button) {
      button.setAttribute('aria-pressed', theme === 'light' ? 'true' : 'false');
      button.textContent = H.t('Light theme');
    }
  }
  applyTheme(H.store.get(THEME_KEY, 'dark'));
  var themeButton = H.$('#theme-button');
  if (themeButton) {
    themeButton.addEventListener('click', function () {
      var next = document.body.classList.contains('theme-light') ? 'dark' : 'light';
      H.store.set(THEME_KEY, next);
      applyTheme(next);
    });
  }

  var fsButton = H.$('#fullscreen-button');
  var docEl = document.documentElement;
  var requestFs = docEl.requestFullscreen || docEl.webkitRequestFullscreen;
  if (fsButton && requestFs) {
    fsButton.hidden = false;
    var fsElement = function () { return document.fullscreenElement || document.webkitFullscreenElement; };
    var syncFs = function () { fsButton.textContent = fsElement() ? H.t('Leave full screen') : H.t('Full screen'); };
    fsButton.addEventListener('click', function () {
      if (fsElement()) {
        (document.exitFullscreen || document.webkitExitFullscreen).call(document);
      } else {
        var result = requestFs.call(docEl);
        if (result && result.catch) result.catch(function () { /* refused: stay windowed */ });
      }
    });
    document.addEventListener('fullscreenchange', syncFs);
    document.addEventListener('webkitfullscreenchange', syncFs);
  }

  // --- pairing a TV (pair_screen.html) ------------------------------------------------------------

  var pairForm = H.$('#pair-form');
  if (pairForm) {
    var input = H.$('#pair-code');
    var error = H.$('#pair-error');
    pairForm.addEventListener('submit', function (event) {
      event.preventDefault();
      var code = input.value.replace(/\s+/g, '').toUpperCase();
      var fail = function (message) {
        error.textContent = message;
        error.hidden = false;
        input.setAttribute('aria-invalid', 'true');
        input.focus();
      };
      if (code.length !== 6) { fail(H.t('The screen code has six letters and digits.')); return; }
      var submit = pairForm.querySelector('button[type="submit"]');
      var request = fetch(pairForm.getAttribute('data-api'), {
        method: 'POST', credentials: 'omit',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Accept-Language': H.lang },
        body: JSON.stringify({ code: code })
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          return { ok: response.ok, status: response.status, body: body };
        });
      }).catch(function () { return { ok: false, status: 0, body: {} }; });
      H.busy(submit, request).then(function (result) {
        if (result.ok) {
          H.store.set(TOKEN_KEY, result.body.screen_token);
          window.location.assign(pairForm.getAttribute('data-next'));
        } else if (result.status === 0) {
          fail(H.t('The server could not be reached. Check the network and try again.'));
        } else if (result.status === 429) {
          fail(H.t('Too many tries. Wait a minute, then try again.'));
        } else {
          fail((result.body.error && result.body.error.message) || H.t('That code did not work.'));
        }
      });
    });
    return;
  }

  // --- the shared screen --------------------------------------------------------------------------

  var root = H.$('#screen');
  if (!root) return;
  var paired = root.getAttribute('data-paired') === 'true';
  var views = ['message', 'lobby', 'activity', 'grounding', 'closed'];
  var state = null;
  var drawn = {};
  var lastAnnounced = '';

  function showView(name) {
    views.forEach(function (v) {
      var node = H.$(v === 'grounding' ? '#grounding' : '#view-' + v);
      if (node) node.hidden = v !== name;
    });
    root.setAttribute('data-view', name);
  }

  function message(title, text, linkVisible) {
    H.$('#message-title').textContent = title;
    H.$('#message-text').textContent = text;
    H.$('#message-link').hidden = !linkVisible;
    showView('message');
  }

  function announce(text) {
    if (text === lastAnnounced) return;
    lastAnnounced = text;
    H.$('#announce').textContent = text;
  }

  function changed(name, data) {
    var json = JSON.stringify(data);
    if (drawn[name] === json) return false;
    drawn[name] = json;
    return true;
  }

  var auth;
  if (paired) {
    var token = H.store.get(TOKEN_KEY, null);
    if (!token) {
      message(H.t('This screen is not paired yet'),
        H.t('Press “Show on a TV” on the facilitator’s console, then type its code on this screen.'), true);
      return;
    }
    auth = function () { return { role: 'screen', screen_token: H.store.get(TOKEN_KEY, token) }; };
  } else {
    var sessionId = parseInt(root.getAttribute('data-session-id'), 10);
    auth = function () { return { role: 'screen', session_id: sessionId }; };
  }

  var socket = H.connect(auth);
  H.watchConnection(socket, H.$('#conn'));

  // --- lobby ----------------------------------------------------------------------------------

  function drawLobby() {
    var code = state.session.join_code || '';
    var arrived = state.arrived || 0;
    H.$('#lobby-group').textContent = (state.session.cohort || '') +
      (state.session.number ? ' · ' + H.t('Session {n}', { n: state.session.number }) : '');
    H.$('#join-address').textContent = window.location.host + root.getAttribute('data-join-path');
    var codeNode = H.$('#lobby-code');
    codeNode.textContent = code;
    codeNode.setAttribute('aria-label', H.t('Room code: {code}', { code: code.split('').join(' ') }));
    H.$('#lobby-arrived').textContent = arrived
      ? H.tn('{n} person is here', '{n} people are here', arrived)
      : H.t('Waiting for the first person');
    if (changed('qr', code)) {
      var box = H.clear(H.$('#lobby-qr'));
      if (code) {
        box.appendChild(h('img', { class: 'qr', src: '/j/' + encodeURIComponent(code) + '/qr.svg',
          alt: H.t('QR code: opens the join page for room {code} on your phone', { code: code }) }));
      }
    }
    showView('lobby');
  }

  // --- activity -------------------------------------------------------------------------------

  function rung(level) {
    var node = H.$('#activity-rung');
    H.clear(node);
    node.appendChild(h('span', { class: 'rung-steps', 'aria-hidden': 'true' },
      [1, 2, 3, 4, 5].map(function (i) { return h('span', { class: i <= level ? 'step on' : 'step' }); })));
    node.appendChild(document.createTextNode(' ' + H.t('Rung {n} of 5', { n: level })));
  }

  function cards(items, className) {
    return h('ul', { class: ['cards-big', className] }, items.map(function (item) {
      return h('li', { class: 'card-big' }, item);
    }));
  }

  function drawActivityBody(a) {
    var body = H.$('#activity-body');
    var texts = (state.texts || []).filter(function (t) { return t.activity_id === a.id; });
    var data = { id: a.id, kind: a.kind, state: a.state, round: a.round, results: state.results,
      texts: texts, apps: a.kind === 'appreciation' ? state.appreciations : null,
      pairs: a.kind === 'dyads' ? state.pairs : null };
    if (!changed('body', data)) return;
    H.clear(body);
    if (a.state === 'preview' || a.state === 'pending') return;
    body.appendChild(H.renderResults(state.results, a, { audience: 'screen', level: 3 }));
    if (a.kind === 'prompt' && texts.length) {
      // Approved texts only, never a name; the newest six fit the screen.
      body.appendChild(h('h3', { class: 'visually-hidden' }, H.t('What people shared')));
      body.appendChild(cards(texts.slice(-6).map(function (t) { return h('p', {}, t.text); }), 'texts'));
    }
    if (a.kind === 'appreciation' && data.apps && data.apps.length) {
      body.appendChild(h('h3', { class: 'visually-hidden' }, H.t('Appreciations')));
      body.appendChild(cards(data.apps.slice(-6).map(function (x) {
        return [h('p', { class: 'card-to' }, x.to ? H.t('To {name}', { name: x.to }) : H.t('To the whole group')),
          h('p', { class: 'card-text' }, x.text),
          x.signature ? h('p', { class: 'card-from' }, '— ' + x.signature) : null];
      }), 'appreciations'));
    }
    if (a.kind === 'dyads') {
      if (data.pairs && data.pairs.length) {
        body.appendChild(h('h3', { class: 'pairs-title' }, H.t('Round {n}: find your partner', { n: a.round })));
        body.appendChild(cards(data.pairs.map(function (group) {
          return h('p', {}, group.join(' & '));
        }), 'pairs-cards'));
      } else if (a.state === 'open') {
        body.appendChild(h('p', { class: 'results-note' }, H.t('Pairs appear here in a moment.')));
      }
    }
    if (a.state === 'closed' && a.kind !== 'check_in' && a.kind !== 'check_out') {
      body.insertBefore(h('p', { class: 'results-note' }, H.t('This activity is closed. Thank you.')),
        body.firstChild);
    }
  }

  function drawActivity() {
    var a = state.activity;
    var preview = a.state === 'preview' || a.state === 'pending';
    H.$('#activity-kind').textContent = H.KINDS[a.kind] || a.kind;
    rung(a.intensity);
    H.$('#activity-coming').hidden = !preview;
    H.$('#activity-title').textContent = a.title;
    // Once closed, the results need the room: the guidance gives way to them.
    var text = preview ? (a.preview || a.text) : a.state === 'closed' ? '' : a.text;
    var textNode = H.$('#activity-text');
    textNode.textContent = text || '';
    textNode.hidden = !text;
    root.classList.toggle('is-closed', a.state === 'closed');
    H.$('#activity-pass').hidden = !(preview || a.state === 'open');
    drawActivityBody(a);
    tick();
    showView('activity');
    var said = { title: a.title };
    announce(preview ? H.t('Coming up: {title}', said)
      : a.state === 'closed' ? H.t('Closed: {title}', said) : H.t('Now: {title}', said));
  }

  function render() {
    var phase = state.session.phase;
    if (phase === 'closed' || state.session.state === 'ended' || state.session.state === 'unknown') {
      showView('closed');
      announce(H.t('The session has ended. Thank you for coming.'));
      return;
    }
    if (phase === 'grounding') {
      showView('grounding');
      announce(H.t('Grounding break. Let’s pause together.'));
      return;
    }
    if (!state.activity) {
      drawLobby();
      announce(H.t('Lobby: join with room code {code}', { code: state.session.join_code || '' }));
      return;
    }
    drawActivity();
  }

  function tick() {
    var a = state && state.activity;
    var node = H.$('#activity-timer');
    if (!a || a.state !== 'open') { node.hidden = true; return; }
    H.renderTimer(node, a.timer);
  }
  setInterval(tick, 1000);

  socket.on('screen_state', function (snapshot) {
    H.followRoomLanguage(snapshot.session && snapshot.session.language);
    H.clock.sync(snapshot.server_now);
    state = snapshot;
    render();
  });
  socket.on('signed_out', function () {
    socket.disconnect();
    message(H.t('Signed out'), H.t('The facilitator signed out, so this screen stopped.'), false);
  });
  socket.on('connect_error', function (err) {
    var refused = H.refusal(socket, err);
    if (!refused) return;  // a network hiccup: the client retries by itself
    if (state && state.session && state.session.phase === 'closed') return;
    if (paired) {
      H.store.remove(TOKEN_KEY);
      message(H.t('This screen is not paired with a live session'),
        H.t('The session may have ended. To show another one, pair the screen again.'), true);
    } else {
      var reason = refused.message || H.t('Sign in again.');
      message(H.t('The screen could not connect'), H.t('{reason} Then reload.', { reason: reason }), false);
    }
  });
})();
