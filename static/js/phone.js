/* Hearth participant phone: follow the session, answer (or pass), ask for a pause, see own answers. */
(function () {
  'use strict';
  var H = window.Hearth;
  var h = H.h;
  H.initLargerText();

  var root = H.$('#phone');
  if (!root) return;

  var OUTBOX = 'hearth.outbox';
  var token = H.store.get('hearth.device_token', null);
  var secret = H.store.get('hearth.secret', null);

  var state = null;        // the latest session_state
  var me = null;           // the phone's own part: name, answer, partners, appreciations
  var meFor = null;        // activity id and round that `me` was fetched for
  var drawnKey = null;     // what the activity view last drew
  var dirty = false;       // the person touched the form since it was drawn
  var callbacks = {};      // client_id -> what to do with the ack
  var ended = false;
  var historyOpen = false;
  var currentView = null;

  var V = {
    message: H.$('#view-message'), lobby: H.$('#view-lobby'), activity: H.$('#view-activity'),
    grounding: H.$('#grounding'), closed: H.$('#view-closed'), history: H.$('#view-history')
  };
  var saveStatus = H.$('#save-status');

  // --- views ------------------------------------------------------------------------------------

  function showView(name, focusTarget) { // focusTarget false: leave focus alone
    var changedView = currentView !== name;
    currentView = name;
    Object.keys(V).forEach(function (key) { V[key].hidden = key !== name; });
    H.$('#kind-words').hidden = !(name === 'lobby' || name === 'closed') ||
      !(me && me.appreciations && me.appreciations.length);
    H.$('#pause-bar').hidden = name === 'closed' || ended;
    root.setAttribute('data-view', name);
    if (changedView && focusTarget !== false) moveFocus(V[name].querySelector('h2'));
  }

  /* Move focus to a new view's heading, unless the person is busy in the pause panel or a card. */
  function moveFocus(node) {
    var active = document.activeElement;
    if (!node || !state) return;
    if (active && (H.$('#pause-bar').contains(active) || H.$('#received').contains(active))) return;
    node.focus();
  }

  function message(title, text, actions) {
    H.$('#message-title').textContent = title;
    H.$('#message-text').textContent = text;
    H.$('#message-actions').hidden = !actions;
    showView('message');
  }

  function status(text, kind) {
    saveStatus.textContent = text || '';
    saveStatus.className = 'save-status' + (kind ? ' ' + kind : '');
  }

  if (!token || !secret) {
    message(H.t('You have not joined yet'), H.t('Enter the room code from the big screen to join your group.'), true);
    H.$('#retry').hidden = true;
    H.$('#pause-bar').hidden = true;
    return;
  }

  var socket = H.connect(function () {
    return { role: 'phone', device_token: token, secret: secret,
      keep_history: H.store.get('hearth.keep_history', true) !== false };
  });
  var setConnection = H.watchConnection(socket, H.$('#conn'), { stopped: H.t('Not connected') });

  // --- the outbox: every unacked command is kept and re-sent after a reconnect -------------------

  function outbox() { return H.store.get(OUTBOX, []); }

  function dropFromOutbox(clientId) {
    var box = outbox();
    var kept = box.filter(function (item) { return item.payload.client_id !== clientId; });
    H.store.set(OUTBOX, kept);
    return kept.length !== box.length;
  }

  function transmit(item) {
    socket.emit(item.event, item.payload, function (ack) { settle(item, ack); });
  }

  function settle(item, ack) {
    var id = item.payload.client_id;
    var wasQueued = dropFromOutbox(id);
    var cb = callbacks[id];
    delete callbacks[id];
    if (cb) cb(ack || { ok: false, error: { code: 'server_error', message: H.t('No answer.') } });
    else if (wasQueued) afterReload(item, ack);
  }

  /* Send a command through the outbox; the callback hears its ack, now or after a reconnect. */
  function send(event, payload, onAck) {
    var box = outbox();
    if (event === 'submit_answer') {
      // A newer answer to the same activity replaces an unsent older one.
      box = box.filter(function (item) {
        return !(item.event === 'submit_answer' && item.payload.activity_id === payload.activity_id);
      });
    }
    var item = { event: event, payload: payload };
    box.push(item);
    H.store.set(OUTBOX, box);
    callbacks[payload.client_id] = onAck;
    if (socket.connected) transmit(item);
    return socket.connected;
  }

  /* An ack for a command sent before the page was reloaded: say what happened to it. */
  function afterReload(item, ack) {
    if (item.event === 'request_pause') {
      if (ack && ack.ok) H.$('#pause-status').textContent = H.t('Your facilitator has been told — only them.');
      return;
    }
    if (state && state.activity && item.payload.activity_id === state.activity.id) {
      if (ack && ack.ok && item.event === 'submit_answer' && me) {
        me.answer = ack.data;
        if (!dirty) render(true);  // show the answer that just arrived in the form
      }
      ackStatus(ack);
    }
  }

  /* Why a command failed, after "Not saved", "Not sent" or "Not deleted" (the what). */
  function errorText(ack, what) {
    var err = (ack && ack.error) || {};
    var reason;
    switch (err.code) {
      case 'not_open': reason = H.t('this activity is not taking answers now.'); break;
      case 'grounding': reason = H.t('the group is taking a grounding break. Answer afterwards.'); break;
      case 'rate_limited': reason = H.t('too many taps at once. Wait a moment and try again.'); break;
      case 'not_live': reason = H.t('the session is not live.'); break;
      case 'invalid': {
        var fields = err.fields || {};
        var detail = Object.keys(fields).map(function (k) { return [].concat(fields[k]).join(' '); });
        reason = (err.message || H.t('that needs another look.')) +
          (detail.length ? ' ' + detail.join(' ') : '');
        break;
      }
      default: reason = err.message || H.t('something went wrong. Try again.');
    }
    if (what === null) return reason;
    var label = what || H.t('Not saved');
    return H.t('{what}: {reason}', { what: label, reason: reason });
  }

  function ackStatus(ack, okText) {
    if (ack && ack.ok) status(okText || H.t('Saved ✓'), 'ok');
    else status(errorText(ack), 'error');
  }

  socket.on('connect', function () {
    outbox().forEach(transmit);
  });

  setInterval(function () {
    if (socket.connected && !ended) socket.emit('heartbeat', {}, function () {});
  }, 25000);

  // --- words for the sliders ----------------------------------------------------------------------

  var PLEASURE_WORDS = [H.t('very unpleasant'), H.t('unpleasant'), H.t('a little unpleasant'),
    H.t('neither pleasant nor unpleasant'), H.t('a little pleasant'), H.t('pleasant'), H.t('very pleasant')];
  var AROUSAL_WORDS = [H.t('very calm, sleepy'), H.t('calm'), H.t('a little calm'), H.t('in between'),
    H.t('a little activated'), H.t('activated'), H.t('wide awake')];
  function wordFor(words, value) { return words[Math.min(words.length - 1, Math.floor(value * words.length))]; }

  var uid = 0;
  function nextId(prefix) { uid += 1; return prefix + '-' + uid; }

  function counter(textarea, node) {
    var update = function () {
      node.textContent = H.t('{n} of 280 characters', { n: textarea.value.length });
      node.classList.toggle('near', textarea.value.length > 250);
    };
    textarea.addEventListener('input', update);
    update();
  }

  function passButton(a) {
    return h('button', { type: 'button', class: 'button secondary pass-button', on: { click: function (ev) {
      var button = ev.currentTarget;
      var clientId = H.clientId();
      button.setAttribute('aria-busy', 'true');
      status(socket.connected ? H.t('Sending…') : H.t('You are offline: your pass will be sent when the connection is back.'));
      send('submit_answer', { activity_id: a.id, client_id: clientId, passed: true }, function (ack) {
        button.removeAttribute('aria-busy');
        if (ack.ok && me) me.answer = ack.data;
        ackStatus(ack, H.t('You passed ✓ That is fine. You can still answer until this closes.'));
      });
    } } }, H.t('Pass'));
  }

  function actions(submitLabel, a) {
    return h('div', { class: 'form-actions' },
      submitLabel ? h('button', { type: 'submit', class: 'button primary' }, submitLabel) : null,
      passButton(a));
  }

  function submitAnswer(a, values, button) {
    var payload = Object.assign({ activity_id: a.id, client_id: H.clientId() }, values);
    if (button) button.setAttribute('aria-busy', 'true');
    status(socket.connected ? H.t('Sending…') : H.t('You are offline: your answer will be sent when the connection is back.'));
    send('submit_answer', payload, function (ack) {
      if (button) button.removeAttribute('aria-busy');
      if (ack.ok && me) me.answer = ack.data;
      ackStatus(ack, H.t('Saved ✓ You can change it until this closes.'));
    });
  }

  // --- forms by kind ------------------------------------------------------------------------------

  function slider(name, label, low, high, words, initial) {
    var id = nextId(name);
    var touched = initial !== null && initial !== undefined;
    var input = h('input', { type: 'range', id: id, min: '0', max: '1', step: '0.05',
      'aria-describedby': id + '-ends' });
    input.value = touched ? String(initial) : '0.5';
    var valueText = h('p', { class: 'slider-value', 'aria-hidden': 'true' });
    var sync = function () {
      var word = touched ? wordFor(words, parseFloat(input.value)) : H.t('not set yet');
      input.setAttribute('aria-valuetext', word);
      valueText.textContent = touched ? word : H.t('Not set — move the slider (optional)');
      input.classList.toggle('untouched', !touched);
    };
    var touch = function () { touched = true; dirty = true; sync(); };
    input.addEventListener('input', touch);
    input.addEventListener('change', touch);
    input.addEventListener('click', touch);
    sync();
    var field = h('div', { class: 'slider-field' },
      h('label', { for: id }, label),
      input,
      h('div', { class: 'slider-ends', id: id + '-ends' },
        h('span', {}, low), h('span', { class: 'visually-hidden' }, ' ' + H.t('to') + ' '), h('span', {}, high)),
      valueText);
    return { node: field, value: function () { return touched ? parseFloat(input.value) : null; } };
  }

  function moodForm(a, answer) {
    var prev = answer && !answer.passed ? answer : {};
    var pleasure = slider('pleasure', H.t('How pleasant do you feel?'), H.t('unpleasant'), H.t('pleasant'),
      PLEASURE_WORDS, prev.pleasure);
    var arousal = slider('arousal', H.t('How awake or activated do you feel?'), H.t('calm, sleepy'),
      H.t('wide awake'), AROUSAL_WORDS, prev.arousal);
    var chosen = (prev.words || []).slice();
    var wordNote = h('p', { class: 'hint', 'aria-live': 'polite' });
    var chips = h('div', { class: 'chips' }, (a.words || []).map(function (word) {
      var on = chosen.indexOf(word) !== -1;
      return h('button', { type: 'button', class: 'chip', 'aria-pressed': on ? 'true' : 'false',
        on: { click: function (ev) {
          var b = ev.currentTarget;
          var i = chosen.indexOf(word);
          dirty = true;
          if (i !== -1) { chosen.splice(i, 1); b.setAttribute('aria-pressed', 'false'); wordNote.textContent = ''; return; }
          if (chosen.length >= 5) { wordNote.textContent = H.t('Up to five words: take one away first.'); return; }
          chosen.push(word);
          b.setAttribute('aria-pressed', 'true');
        } } }, h('span', { class: 'chip-mark', 'aria-hidden': 'true' }), H.t(word));
    }));
    var form = h('form', { class: 'answer-form', novalidate: true },
      pleasure.node, arousal.node,
      h('fieldset', { class: 'words-field' },
        h('legend', {}, H.t('Any words that fit? (optional, up to five)')), chips, wordNote));
    var circlesName = nextId('connectedness');
    if (a.connectedness) {
      form.appendChild(h('fieldset', { class: 'circles-field' },
        h('legend', {}, H.t('How connected to the group do you feel?')),
        h('p', { class: 'hint' }, H.t('Pick the pair of circles. The left circle is you, the right one the group.')),
        h('div', { class: 'circle-options' }, H.CIRCLES.map(function (label, i) {
          var id = circlesName + '-' + (i + 1);
          var radio = h('input', { type: 'radio', name: circlesName, id: id, value: String(i + 1),
            checked: prev.connectedness === i + 1, on: { change: function () { dirty = true; } } });
          return h('div', { class: 'circle-option' }, radio,
            h('label', { for: id }, H.circles(i + 1), h('span', {}, (i + 1) + ' — ' + label)));
        }))));
    }
    form.appendChild(h('p', { class: 'hint' }, H.t('Anonymous. You can change it until this closes.')));
    form.appendChild(actions(H.t('Send'), a));
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var values = { pleasure: pleasure.value(), arousal: arousal.value(), words: chosen.slice() };
      if (a.connectedness) {
        var picked = form.querySelector('input[name="' + circlesName + '"]:checked');
        values.connectedness = picked ? parseInt(picked.value, 10) : null;
      }
      if (values.pleasure === null && values.arousal === null && !values.words.length &&
          !values.connectedness) {
        status(H.t('Move a slider, pick a word, or pass.'), 'error');
        return;
      }
      submitAnswer(a, values, form.querySelector('button[type="submit"]'));
    });
    return form;
  }

  function promptForm(a, answer) {
    var prev = answer && !answer.passed ? answer : {};
    var textId = nextId('prompt-text');
    var textarea = h('textarea', { id: textId, maxlength: '280', rows: '3',
      'aria-describedby': textId + '-count ' + textId + '-hint', on: { input: function () { dirty = true; } } });
    textarea.value = prev.response === 'text' ? (prev.text || '') : '';
    var count = h('p', { class: 'counter', id: textId + '-count' });
    counter(textarea, count);
    var reactions = (a.reactions || []).map(function (r) {
      return h('button', { type: 'button', class: 'chip reaction',
        'aria-pressed': prev.response === 'reaction' && prev.reaction === r ? 'true' : 'false',
        on: { click: function (ev) {
          H.$$('.reaction', box).forEach(function (b) { b.setAttribute('aria-pressed', 'false'); });
          ev.currentTarget.setAttribute('aria-pressed', 'true');
          submitAnswer(a, { response: 'reaction', reaction: r }, ev.currentTarget);
        } } }, H.REACTIONS[r] || r);
    });
    var textForm = h('form', { class: 'text-form', novalidate: true },
      h('label', { for: textId }, H.t('Or write a few words (optional)')),
      textarea, count,
      h('p', { class: 'hint', id: textId + '-hint' },
        H.t('Your facilitator reads it before it is shown on the screen, without your name.')),
      h('button', { type: 'submit', class: 'button secondary' }, H.t('Send my words')));
    textForm.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var text = textarea.value.trim();
      if (!text) { status(H.t('Write something first, or tap Done or Pass.'), 'error'); textarea.focus(); return; }
      submitAnswer(a, { response: 'text', text: text }, textForm.querySelector('button'));
    });
    var box = h('div', { class: 'answer-form' },
      h('button', { type: 'button', class: 'button primary wide', 'aria-pressed': prev.response === 'done' ? 'true' : 'false',
        on: { click: function (ev) { submitAnswer(a, { response: 'done' }, ev.currentTarget); } } }, H.t('Done ✓')),
      reactions.length ? h('fieldset', { class: 'words-field' }, h('legend', {}, H.t('Or react')),
        h('div', { class: 'chips' }, reactions)) : null,
      textForm,
      h('div', { class: 'form-actions' }, passButton(a)));
    return box;
  }

  function questionnaireForm(a, answer) {
    var instrument = a.instrument;
    if (!instrument) return h('div', {}, h('p', {}, H.t('This questionnaire is not available.')), actions(null, a));
    var fmt = instrument.response_format || {};
    var prev = (answer && !answer.passed && answer.items) || {};
    var anchors = fmt.anchors || [];
    var ctx = instrument.key;
    var groupId = nextId('q');
    var form = h('form', { class: 'answer-form questionnaire', novalidate: true },
      fmt.period ? h('p', { class: 'hint' }, H.t('About {period}. Skip any you like.', { period: H.tc(ctx, fmt.period) })) :
        h('p', { class: 'hint' }, H.t('Skip any you like.')));
    instrument.items.forEach(function (item, index) {
      var options = [];
      for (var v = fmt.min; v <= fmt.max; v++) {
        var id = groupId + '-' + item.key + '-' + v;
        var anchor = anchors[v - fmt.min];
        options.push(h('div', { class: 'check-row scale-option' },
          h('input', { type: 'radio', id: id, name: groupId + '-' + item.key, value: String(v),
            checked: prev[item.key] === v, on: { change: function () { dirty = true; } } }),
          h('label', { for: id }, anchor ? v + ' — ' + H.tc(ctx, anchor) : String(v))));
      }
      form.appendChild(h('fieldset', { class: 'scale' },
        h('legend', {}, (index + 1) + '. ' + H.tc(ctx, item.label)), options));
    });
    form.appendChild(h('p', { class: 'licence muted' }, H.tc(ctx, instrument.name) + ' · ' + H.tc(ctx, instrument.licence || '')));
    form.appendChild(actions(H.t('Send'), a));
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var items = {};
      instrument.items.forEach(function (item) {
        var picked = form.querySelector('input[name="' + groupId + '-' + item.key + '"]:checked');
        if (picked) items[item.key] = parseInt(picked.value, 10);
      });
      if (!Object.keys(items).length) { status(H.t('Answer at least one question, or pass.'), 'error'); return; }
      submitAnswer(a, { items: items }, form.querySelector('button[type="submit"]'));
    });
    return form;
  }

  function appreciationForm(a) {
    var name = nextId('recipient');
    var textId = nextId('app-text');
    var signedId = nextId('app-signed');
    var myId = me ? me.member_id : null;
    var people = (a.recipients || []).filter(function (r) { return r.id !== myId; });
    var options = [{ id: '', name: H.t('The whole group') }].concat(people).map(function (r, i) {
      var id = name + '-' + i;
      return h('div', { class: 'check-row' },
        h('input', { type: 'radio', name: name, id: id, value: String(r.id), checked: i === 0 }),
        h('label', { for: id }, r.name));
    });
    var textarea = h('textarea', { id: textId, maxlength: '280', rows: '3',
      'aria-describedby': textId + '-count ' + textId + '-hint', on: { input: function () { dirty = true; } } });
    var count = h('p', { class: 'counter', id: textId + '-count' });
    counter(textarea, count);
    var signed = h('input', { type: 'checkbox', id: signedId });
    var form = h('form', { class: 'answer-form', novalidate: true },
      h('fieldset', { class: 'recipients' }, h('legend', {}, H.t('Who is it for?')), options),
      h('label', { for: textId }, H.t('Your appreciation')),
      textarea, count,
      h('div', { class: 'check-row' }, signed, h('label', { for: signedId }, H.t('Sign with my name'))),
      h('p', { class: 'hint', id: textId + '-hint' },
        H.t('Your facilitator reads it before anyone sees it. Unsigned, nobody learns it came from you.')),
      actions(H.t('Send'), a));
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var text = textarea.value.trim();
      if (!text) { status(H.t('Write a few words first, or pass.'), 'error'); textarea.focus(); return; }
      var picked = form.querySelector('input[name="' + name + '"]:checked');
      var recipient = picked && picked.value ? parseInt(picked.value, 10) : null;
      var button = form.querySelector('button[type="submit"]');
      button.setAttribute('aria-busy', 'true');
      status(socket.connected ? H.t('Sending…') : H.t('You are offline: it will be sent when the connection is back.'));
      send('send_appreciation', { activity_id: a.id, client_id: H.clientId(), text: text,
        recipient_id: recipient, signed: signed.checked }, function (ack) {
        button.removeAttribute('aria-busy');
        if (ack.ok) {
          textarea.value = '';
          count.textContent = H.t('{n} of 280 characters', { n: 0 });
          dirty = false;
        }
        ackStatus(ack, H.t('Sent ✓ Your facilitator reads it first. You can write another.'));
      });
    });
    return form;
  }

  function dyadsView(a) {
    var partners = (me && meFor === activityKey(state) && me.partners) || [];
    var line;
    if (partners.length === 1) line = h('p', { class: 'partner' }, H.t('Your partner:') + ' ', h('strong', {}, partners[0]));
    else if (partners.length > 1) {
      line = h('p', { class: 'partner' }, H.t('Your partners:') + ' ',
        h('strong', {}, partners.join(' ' + H.t('and') + ' ')));
    } else if (a.round) line = h('p', { class: 'partner' }, H.t('You are not in a pair this round. That is fine: your facilitator will include you.'));
    else line = h('p', { class: 'partner' }, H.t('Pairs are being formed. Wait a moment.'));
    return h('div', { class: 'answer-form' }, line,
      h('p', { class: 'hint' }, H.t('Either of you can stop at any moment.')),
      h('div', { class: 'form-actions' }, passButton(a)));
  }

  function activityBody(a) {
    var answer = me && me.answer && me.answer.activity_id === a.id ? me.answer : null;
    if (a.state === 'preview' || a.state === 'pending') {
      return h('div', { class: 'preview-note' },
        h('p', {}, H.t('You can pass: nothing is forced. It starts when your facilitator says so.')));
    }
    if (a.state === 'closed') {
      return h('div', { class: 'preview-note' }, h('p', {}, H.t('This activity has closed. Thank you.')),
        answer ? h('p', { class: 'muted' }, answer.passed ? H.t('You passed.') : H.t('Your answer was saved.')) : null);
    }
    var node;
    if (a.kind === 'check_in' || a.kind === 'check_out') node = moodForm(a, answer);
    else if (a.kind === 'prompt') node = promptForm(a, answer);
    else if (a.kind === 'questionnaire') node = questionnaireForm(a, answer);
    else if (a.kind === 'appreciation') node = appreciationForm(a);
    else if (a.kind === 'dyads') node = dyadsView(a);
    else node = h('div', {}, actions(null, a));
    return node;
  }

  // --- drawing ------------------------------------------------------------------------------------

  function activityKey(s) {
    var a = s && s.activity;
    return a ? a.id + ':' + (a.round || 0) : 'none';
  }

  function drawActivity(force) {
    var a = state.activity;
    var key = [a.id, a.state, a.round || 0, a.kind].join(':');
    var preview = a.state === 'preview' || a.state === 'pending';
    H.$('#act-meta').textContent = (H.KINDS[a.kind] || a.kind) + ' · ' + H.t('Rung {n} of 5', { n: a.intensity });
    H.$('#act-coming').hidden = !preview;
    H.$('#act-title').textContent = a.title;
    var text = preview ? (a.preview || a.text) : a.text;
    H.$('#act-text').textContent = text || '';
    H.$('#act-text').hidden = !text;
    tick();
    var isNew = key !== drawnKey;
    if (isNew || force) {
      drawnKey = key;
      dirty = false;
      H.fill(H.$('#act-body'), activityBody(a));
      if (isNew) {
        var answer = me && me.answer && me.answer.activity_id === a.id ? me.answer : null;
        status(a.state === 'open' && answer ? (answer.passed ? H.t('You passed this one. You can still answer.') :
          H.t('Your answer is saved. You can change it until this closes.')) : '');
      }
    }
    var wasShowing = currentView === 'activity';
    showView('activity', false);
    if (isNew) moveFocus(H.$('#act-title'));
    else if (!wasShowing) moveFocus(H.$('#act-title'));
  }

  function render(force) {
    if (!state || historyOpen) return;
    var s = state.session || {};
    if (me && me.name) {
      H.$('#phone-who').textContent = H.t('You joined as {name}', { name: me.name });
      H.$('#phone-who').hidden = false;
    }
    if (s.cohort) H.$('#phone-title').textContent = s.cohort;
    drawKindWords();
    if (ended || s.phase === 'closed' || s.state === 'ended' || s.state === 'unknown') {
      finish();
      return;
    }
    if (s.phase === 'grounding') { showView('grounding'); return; }
    if (!state.activity) { drawnKey = null; showView('lobby'); return; }
    drawActivity(force);
  }

  function tick() {
    var a = state && state.activity;
    var node = H.$('#act-timer');
    if (!a || a.state !== 'open') { node.hidden = true; return; }
    H.renderTimer(node, a.timer);
  }
  setInterval(tick, 1000);

  function drawKindWords() {
    var list = (me && me.appreciations) || [];
    H.fill(H.$('#kind-list'), list.map(function (x) {
      return h('li', {}, x.text, x.signature ? h('span', { class: 'muted' }, ' — ' + x.signature) : null);
    }));
  }

  function finish() {
    ended = true;
    H.store.set(OUTBOX, []);
    callbacks = {};
    showView('closed');
    if (socket.connected) socket.disconnect();
    setConnection('ended', H.t('Session ended'));
  }

  /* Ask for the phone's own part again (answer, partners) after the activity or round changed. */
  function refreshMe() {
    var wanted = activityKey(state);
    H.call(socket, 'get_state', {}).then(function (ack) {
      if (!ack.ok || !ack.data) return;
      if (ack.data.me) {
        me = ack.data.me;
        meFor = activityKey(ack.data);
      }
      if (activityKey(ack.data) === wanted) {
        state = ack.data;
        H.clock.sync(ack.data.server_now);
      }
      if (!dirty) render(true);
    });
  }

  socket.on('session_state', function (snapshot) {
    H.followRoomLanguage(snapshot.session && snapshot.session.language);
    H.clock.sync(snapshot.server_now);
    state = snapshot;
    if (snapshot.me) {
      me = snapshot.me;
      meFor = activityKey(snapshot);
    }
    render(false);
    if (!snapshot.me && meFor !== activityKey(snapshot) && snapshot.activity) refreshMe();
  });

  socket.on('session_ended', function () { finish(); });

  socket.on('appreciation_received', function (data) {
    if (me) {
      me.appreciations = (me.appreciations || []).concat([data]);
      drawKindWords();
    }
    H.$('#received-text').textContent = data.text;
    H.$('#received-from').textContent = data.signature ? '— ' + data.signature : H.t('Unsigned');
    H.$('#received').hidden = false;
    H.$('#received .received-title').focus();
  });
  H.$('#received-close').addEventListener('click', function () { H.$('#received').hidden = true; });

  socket.on('connect_error', function (err) {
    var refused = H.refusal(socket, err);
    if (!refused) return;  // the network: the client keeps retrying by itself
    if (ended || (state && state.session && state.session.phase === 'closed')) { finish(); return; }
    if (refused.code === 'not_live') {
      message(H.t('No session is live right now'), H.t('When your facilitator starts the session, tap Try again.'), true);
    } else {
      message(H.t('This phone is not in a session'), (refused.message ? refused.message + ' ' : '') +
        H.t('Enter the room code from the big screen to join.'), true);
    }
  });
  H.$('#retry').addEventListener('click', function () {
    message(H.t('Connecting…'), H.t('One moment.'), false);
    socket.connect();
  });

  // --- I need a pause -------------------------------------------------------------------------------

  var pausePanel = H.$('#pause-panel');
  var pauseOpen = H.$('#pause-open');
  var pauseStatus = H.$('#pause-status');
  var pauseSend = H.$('#pause-send');
  function setPausePanel(open) {
    pausePanel.hidden = !open;
    pauseOpen.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (open) {
      pausePanel.classList.remove('is-sent');
      pauseStatus.textContent = '';
      pauseSend.hidden = false;
      H.$('#pause-cancel').textContent = H.t('Cancel');
      H.$('#pause-panel-title').focus();
    } else {
      pauseOpen.focus();
    }
  }
  pauseOpen.addEventListener('click', function () { setPausePanel(pausePanel.hidden); });
  H.$('#pause-cancel').addEventListener('click', function () { setPausePanel(false); });
  pauseSend.addEventListener('click', function () {
    var checkIn = H.$('#pause-check-in').checked;
    pauseSend.disabled = true;
    pauseSend.setAttribute('aria-busy', 'true');
    var sent = send('request_pause', { client_id: H.clientId(), check_in: checkIn }, function (ack) {
      pauseSend.disabled = false;
      pauseSend.removeAttribute('aria-busy');
      if (ack.ok) {
        pauseStatus.textContent = H.t('Your facilitator has been told — only them.');
        pauseStatus.className = 'pause-status ok';
        pauseSend.hidden = true;
        pausePanel.classList.add('is-sent');
        H.$('#pause-check-in').checked = false;
        H.$('#pause-cancel').textContent = H.t('Close');
      } else {
        pauseStatus.textContent = errorText(ack, H.t('Not sent'));
        pauseStatus.className = 'pause-status error';
      }
    });
    if (!sent) {
      pauseSend.disabled = false;
      pauseSend.removeAttribute('aria-busy');
      pauseStatus.textContent = H.t('You are offline: it will be sent as soon as the connection is back.');
      pauseStatus.className = 'pause-status';
    }
  });

  // --- my answers ---------------------------------------------------------------------------------

  var keepBox = H.$('#keep-history');
  keepBox.checked = H.store.get('hearth.keep_history', true) !== false;
  keepBox.addEventListener('change', function () {
    H.store.set('hearth.keep_history', keepBox.checked);
    // The choice travels with the connection's auth: reconnect so it applies now.
    if (socket.connected) { socket.disconnect(); socket.connect(); }
  });

  function historyItem(answer) {
    var parts = [];
    if (answer.passed) parts.push(H.t('passed'));
    if (answer.pleasure !== null && answer.pleasure !== undefined) parts.push(wordFor(PLEASURE_WORDS, answer.pleasure));
    if (answer.arousal !== null && answer.arousal !== undefined) parts.push(wordFor(AROUSAL_WORDS, answer.arousal));
    if (answer.words && answer.words.length) {
      parts.push(H.t('words: {words}', { words: answer.words.map(function (w) { return H.t(w); }).join(', ') }));
    }
    if (answer.connectedness) parts.push(H.t('connected {n} of 7', { n: answer.connectedness }));
    if (answer.score !== undefined && answer.score !== null) parts.push(H.t('score {score}', { score: answer.score }));
    if (answer.items && !answer.passed) parts.push(H.t('questionnaire answered'));
    if (answer.response && !answer.passed) {
      parts.push({ text: H.t('wrote a few words'), done: H.t('done'), reaction: H.t('reacted') }[answer.response] ||
        answer.response);
    }
    var date = answer.answered_on || '';
    return h('li', {}, h('strong', {}, date), ' · ', parts.join(' · ') || H.t('answered'));
  }

  function loadHistory() {
    var body = H.fill(H.$('#history-body'), h('p', { class: 'muted' }, H.t('Loading…')));
    H.call(socket, 'my_history', {}).then(function (ack) {
      if (!ack.ok) { H.fill(body, h('p', { class: 'error' }, errorText(ack, null))); return; }
      var answers = ack.data.answers || [];
      H.$('#forget-question').textContent = answers.length
        ? H.tn('Delete your {n} answer from the server? This cannot be undone.',
          'Delete all {n} answers from the server? This cannot be undone.', answers.length)
        : H.t('Delete your answers from the server? This cannot be undone.');
      H.fill(body, answers.length
        ? h('ol', { class: 'history-list' }, answers.slice().reverse().map(historyItem))
        : h('p', {}, H.t('No answers kept yet.')));
    });
  }

  H.$('#history-open').addEventListener('click', function () {
    historyOpen = true;
    H.$('#forget-confirm').hidden = true;
    H.$('#forget-status').textContent = '';
    showView('history');
    loadHistory();
  });
  H.$('#history-close').addEventListener('click', function () {
    historyOpen = false;
    currentView = null;
    drawnKey = null;
    if (state) render(true); else showView('message');
    H.$('#history-open').focus();
  });
  H.$('#forget-button').addEventListener('click', function () {
    H.$('#forget-confirm').hidden = false;
    H.$('#forget-no').focus();
  });
  H.$('#forget-no').addEventListener('click', function () {
    H.$('#forget-confirm').hidden = true;
    H.$('#forget-button').focus();
  });
  H.$('#forget-yes').addEventListener('click', function (ev) {
    H.busy(ev.currentTarget, H.call(socket, 'forget_me', {})).then(function (ack) {
      H.$('#forget-confirm').hidden = true;
      if (ack.ok) {
        H.$('#forget-status').textContent = H.tn('Deleted {n} answer.', 'Deleted {n} answers.', ack.data.deleted);
        if (me) me.answer = null;
        loadHistory();
      } else {
        H.$('#forget-status').textContent = errorText(ack, H.t('Not deleted'));
      }
      H.$('#forget-button').focus();
    });
  });
})();
