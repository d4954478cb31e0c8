/* Hearth live views: helpers shared by the console, the shared screen, the phone and the join pages.
   Plain ES2017 for old Android Chrome: no optional chaining, no object spread, no modules. */
(function () {
  'use strict';

  var H = {};

  // --- words: the page's catalogue (English msgid -> this language), read from a meta tag -------

  var catalogue = {};
  (function () {
    var meta = document.querySelector('meta[name="hearth-i18n"]');
    if (!meta) return;
    try { catalogue = JSON.parse(meta.getAttribute('content')) || {}; } catch (e) { catalogue = {}; }
  })();
  H.lang = document.documentElement.getAttribute('lang') || 'en';

  function fillIn(text, params) {
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, function (whole, key) {
      return params[key] === undefined || params[key] === null ? whole : String(params[key]);
    });
  }
  /* This page's words for an English message, with {name} placeholders filled in. A label the
     server sent (a feeling word, an item) goes through here too: unknown text stays as it is. */
  H.t = function (msgid, params) {
    var text = catalogue[msgid];
    return fillIn(typeof text === 'string' ? text : String(msgid), params);
  };
  /* One or many: {n} is the number. English and Spanish use the first form for exactly 1. */
  H.tn = function (one, many, n, params) {
    var forms = catalogue[one];
    var text = Array.isArray(forms) ? forms[n === 1 ? 0 : 1] : (n === 1 ? one : many);
    return fillIn(text, Object.assign({ n: n }, params || {}));
  };
  /* One questionnaire's own wording: the context is its key (WHO-5's "Some of the time" is not
     UCLA-3's). Without a translation in that context the text goes through H.t. */
  H.tc = function (context, msgid, params) {
    var text = context ? catalogue[context + '\u0004' + msgid] : undefined;
    return typeof text === 'string' ? fillIn(text, params) : H.t(msgid, params);
  };

  // --- DOM ------------------------------------------------------------------------------------

  H.$ = function (selector, root) { return (root || document).querySelector(selector); };
  H.$$ = function (selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  };

  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }

  function build(node, attrs, children) {
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === 'on') {
        Object.keys(value).forEach(function (ev) { node.addEventListener(ev, value[ev]); });
      } else if (key === 'text') {
        node.textContent = value;
      } else if (key === 'class') {
        node.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
      } else if (key === 'checked' || key === 'value' || key === 'selected') {
        node[key] = value;
      } else {
        node.setAttribute(key, value === true ? '' : String(value));
      }
    });
    append(node, children);
    return node;
  }

  // Elements are always built with text nodes, never parsed from markup: answers are untrusted text.
  H.h = function (tag, attrs) {
    return build(document.createElement(tag), attrs, Array.prototype.slice.call(arguments, 2));
  };
  H.svg = function (tag, attrs) {
    var node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    return build(node, attrs, Array.prototype.slice.call(arguments, 2));
  };
  H.clear = function (node) { while (node.firstChild) node.removeChild(node.firstChild); return node; };
  H.fill = function (node) {
    H.clear(node);
    append(node, Array.prototype.slice.call(arguments, 1));
    return node;
  };
  H.show = function (node, visible) { if (node) node.hidden = !visible; };

  // --- storage (private browsing may refuse it: the page still works for this visit) ----------

  var memory = {};
  H.store = {
    get: function (key, fallback) {
      var raw;
      try { raw = window.localStorage.getItem(key); } catch (e) { raw = memory[key]; }
      if (raw === null || raw === undefined) return fallback;
      try { return JSON.parse(raw); } catch (e) { return fallback; }
    },
    set: function (key, value) {
      var raw = JSON.stringify(value);
      memory[key] = raw;
      try { window.localStorage.setItem(key, raw); } catch (e) { /* kept in memory */ }
    },
    remove: function (key) {
      delete memory[key];
      try { window.localStorage.removeItem(key); } catch (e) { /* nothing stored */ }
    }
  };

  // --- randomness: crypto.getRandomValues only (the subtle API is missing on plain http) -------

  H.randomToken = function (bytes) {
    var data = new Uint8Array(bytes || 32);
    window.crypto.getRandomValues(data);
    var binary = '';
    for (var i = 0; i < data.length; i++) binary += String.fromCharCode(data[i]);
    return window.btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  H.clientId = function () { return H.randomToken(16); };

  // --- the server's clock ---------------------------------------------------------------------

  H.parseTime = function (iso) {
    if (!iso) return NaN;
    // Python sends microseconds; some engines only parse milliseconds.
    return Date.parse(String(iso).replace(/(\.\d{3})\d+/, '$1'));
  };
  H.clock = {
    offset: 0,
    sync: function (serverNow) {
      var t = H.parseTime(serverNow);
      if (!isNaN(t)) this.offset = t - Date.now();
    },
    now: function () { return Date.now() + this.offset; }
  };
  /* Seconds left on an activity's timer: deadline - (now + offset) while it runs. */
  H.timerLeft = function (timer) {
    if (!timer) return null;
    if (timer.running && timer.deadline) {
      return Math.max(0, (H.parseTime(timer.deadline) - H.clock.now()) / 1000);
    }
    if (timer.remaining !== null && timer.remaining !== undefined) return Math.max(0, timer.remaining);
    return timer.seconds || null;
  };
  H.formatClock = function (seconds) {
    var s = Math.ceil(seconds);
    return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
  };
  H.spokenClock = function (seconds) {
    var s = Math.ceil(seconds);
    var m = Math.floor(s / 60);
    var parts = [];
    if (m) parts.push(H.tn('{n} minute', '{n} minutes', m));
    if (s % 60 || !m) parts.push(H.tn('{n} second', '{n} seconds', s % 60));
    return parts.join(' ');
  };
  /* Fill a countdown element; the text says whether it runs, so colour is never needed. */
  H.renderTimer = function (node, timer) {
    if (!node) return;
    var left = H.timerLeft(timer);
    if (left === null) { node.hidden = true; return; }
    node.hidden = false;
    var clock = H.formatClock(left);
    node.textContent = !timer.running ? H.t('{clock} paused', { clock: clock })
      : left > 0 ? H.t('{clock} left', { clock: clock }) : H.t('time is up');
    node.setAttribute('aria-label', timer.running
      ? H.t('{time} left', { time: H.spokenClock(left) })
      : H.t('Timer paused: {time}', { time: H.spokenClock(left) }));
    node.classList.toggle('is-paused', !timer.running);
    node.classList.toggle('is-up', !!timer.running && left <= 0);
  };

  // --- sockets --------------------------------------------------------------------------------

  /* Connect with an auth callback, so every reconnect re-sends fresh auth. */
  H.connect = function (authFn) {
    // The page's language travels with the auth, so the server's refusals come in it too.
    return window.io({ auth: function (cb) { cb(Object.assign({ lang: H.lang }, authFn())); } });
  };

  /* Say why the server refused a connection, or null for a network hiccup the client retries.
     A refused socket is no longer `active`. The reason should arrive as err.data {code, message};
     until the server sends it that way it comes as the text of a Python dict in err.message. */
  H.refusal = function (socket, err) {
    if (!err || (socket.active && !err.data)) return null;
    if (err.data && err.data.code) return { code: err.data.code, message: err.data.message || '' };
    var text = String((err.data && err.data.message) || err.message || '');
    var code = /['"]code['"]\s*:\s*['"]([a-z_]+)['"]/.exec(text);
    var message = /['"]message['"]\s*:\s*(['"])(.*?)\1\s*[,}]/.exec(text);
    return { code: code ? code[1] : 'refused', message: message ? message[2] : '' };
  };

  /* Send one command and resolve with its ack, or with an error ack when offline or silent. */
  H.call = function (socket, event, payload, timeoutMs) {
    return new Promise(function (resolve) {
      if (!socket || !socket.connected) {
        resolve({ ok: false, error: { code: 'offline',
          message: H.t('Not connected right now. Try again when the connection is back.') } });
        return;
      }
      var done = false;
      var timer = setTimeout(function () {
        if (done) return;
        done = true;
        resolve({ ok: false, error: { code: 'timeout',
          message: H.t('The server did not answer in time; it may not have been done.') } });
      }, timeoutMs || 10000);
      socket.emit(event, payload || {}, function (ack) {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(ack || { ok: false, error: { code: 'server_error', message: H.t('No answer.') } });
      });
    });
  };

  /* A button in flight: disabled, marked busy, and its label kept for screen readers. */
  H.busy = function (button, promise) {
    if (!button) return promise;
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    button.classList.add('is-busy');
    var restore = function () {
      button.disabled = false;
      button.removeAttribute('aria-busy');
      button.classList.remove('is-busy');
    };
    return promise.then(function (value) { restore(); return value; },
      function (err) { restore(); throw err; });
  };

  /* Keep a connection indicator in words: connected, reconnecting, or stopped. */
  H.watchConnection = function (socket, node, labels) {
    labels = labels || {};
    var set = function (state, text) {
      if (!node) return;
      node.className = 'conn conn-' + state;
      node.textContent = text;
    };
    set('connecting', labels.connecting || H.t('Connecting…'));
    socket.on('connect', function () { set('ok', labels.ok || H.t('Connected')); });
    socket.on('disconnect', function () { set('lost', labels.lost || H.t('Reconnecting…')); });
    socket.on('connect_error', function (err) {
      if (H.refusal(socket, err)) set('stopped', labels.stopped || H.t('Not connected'));
      else set('lost', labels.lost || H.t('Reconnecting…'));
    });
    return set;
  };

  /* A phone or TV that has not chosen a language follows its room's: the room's language goes
     into a cookie and the page reloads once, so the server renders it in that language. */
  H.followRoomLanguage = function (lang) {
    var root = document.documentElement;
    if (!lang || lang === H.lang || root.hasAttribute('data-lang-chosen')) return;
    if ((root.getAttribute('data-languages') || '').split(' ').indexOf(lang) === -1) return;
    try {
      if (window.sessionStorage.getItem('hearth.lang_followed') === lang) return;
      window.sessionStorage.setItem('hearth.lang_followed', lang);
    } catch (e) { return; }  // no way to remember the reload: never risk a loop
    document.cookie = 'hearth_room_lang=' + lang + '; path=/; max-age=31536000; SameSite=Lax';
    window.location.reload();
  };

  // --- larger text (phone and join pages) -----------------------------------------------------

  H.initLargerText = function () {
    var on = H.store.get('hearth.larger_text', false) === true;
    document.documentElement.classList.toggle('larger-text', on);
    H.$$('[data-larger-text]').forEach(function (button) {
      button.setAttribute('aria-pressed', on ? 'true' : 'false');
      button.addEventListener('click', function () {
        on = !on;
        H.store.set('hearth.larger_text', on);
        document.documentElement.classList.toggle('larger-text', on);
        H.$$('[data-larger-text]').forEach(function (b) {
          b.setAttribute('aria-pressed', on ? 'true' : 'false');
        });
      });
    });
  };

  // --- words for numbers ------------------------------------------------------------------------

  H.KINDS = {
    check_in: H.t('Check-in'), check_out: H.t('Check-out'), prompt: H.t('Shared activity'),
    questionnaire: H.t('Questionnaire'), appreciation: H.t('Appreciation round'), dyads: H.t('Pairs')
  };
  H.PLEASURE_BINS = [H.t('very unpleasant'), H.t('unpleasant'), H.t('neutral'), H.t('pleasant'),
    H.t('very pleasant')];
  H.AROUSAL_BINS = [H.t('very calm'), H.t('calm'), H.t('in between'), H.t('activated'),
    H.t('very activated')];
  H.CIRCLES = [H.t('far apart'), H.t('apart'), H.t('just touching'), H.t('a little overlap'),
    H.t('overlapping'), H.t('mostly together'), H.t('almost one')];
  H.REACTIONS = { warm: H.t('❤ warm'), calm: H.t('☁ calm'), hard: H.t('≈ hard'),
    smile: H.t('☺ smile'), thanks: H.t('✿ thanks') };
  H.plural = function (n, one, many) { return n + ' ' + (n === 1 ? one : many); };

  /* Two circles, further apart at 1 and almost one at 7 (Inclusion of Other in the Self). */
  var CIRCLE_GAPS = [76, 52, 40, 30, 20, 11, 4];  // centre distance; the radius is 20
  H.circles = function (level, extra) {
    var d = CIRCLE_GAPS[level - 1];
    var attrs = Object.assign({ viewBox: '0 0 120 50', 'aria-hidden': 'true', focusable: 'false',
      class: 'circles' }, extra || {});
    return H.svg('svg', attrs,
      H.svg('circle', { cx: 60 - d / 2, cy: 25, r: 20, class: 'c-self' }),
      H.svg('circle', { cx: 60 + d / 2, cy: 25, r: 20, class: 'c-group' }));
  };

  // --- results (screen and console share the suppression wording) -----------------------------

  function heading(level, text) { return H.h('h' + Math.min(level, 6), { class: 'part-title' }, text); }

  function withheld(part, audience) {
    var k = part.n_below;
    return H.h('p', { class: 'withheld' }, audience === 'console'
      ? H.t('Fewer than {k} people gave this, so it stays hidden everywhere.', { k: k })
      : H.t('Results appear when at least {k} people have answered.', { k: k }));
  }

  function moodGrid(part, level) {
    var cells = part.cells;
    var max = 0;
    cells.forEach(function (row) { row.forEach(function (c) { if (c > max) max = c; }); });
    var grid = H.h('div', { class: 'mood-grid', 'aria-hidden': 'true' });
    for (var a = 4; a >= 0; a--) {
      for (var p = 0; p < 5; p++) {
        var count = cells[a][p];
        var lvl = count ? Math.max(1, Math.ceil(count / max * 5)) : 0;
        grid.appendChild(H.h('div', { class: ['cell', 'lvl-' + lvl, (a < 2 && p < 2) ? 'numb' : ''] },
          count ? H.h('span', {}, String(count)) : ''));
      }
    }
    var table = H.h('table', { class: 'visually-hidden' },
      H.h('caption', {}, H.t('How many people feel each way, by pleasure (columns) and arousal ' +
        '(rows); {n} answered.', { n: part.n })),
      H.h('thead', {}, H.h('tr', {}, H.h('th', { scope: 'col' }, H.t('Arousal')),
        H.PLEASURE_BINS.map(function (label) { return H.h('th', { scope: 'col' }, label); }))),
      H.h('tbody', {}, [4, 3, 2, 1, 0].map(function (ai) {
        return H.h('tr', {}, H.h('th', { scope: 'row' }, H.AROUSAL_BINS[ai]),
          cells[ai].map(function (c) { return H.h('td', {}, String(c)); }));
      })));
    return H.h('section', { class: 'result-part part-grid' },
      heading(level, H.t('Mood')),
      H.h('div', { class: 'mood-figure' },
        H.h('p', { class: 'axis axis-y', 'aria-hidden': 'true' },
          H.h('span', {}, H.t('calm')), H.h('span', { class: 'arrow' }, '→'),
          H.h('span', {}, H.t('activated'))),
        grid,
        H.h('p', { class: 'axis axis-x', 'aria-hidden': 'true' },
          H.h('span', {}, H.t('unpleasant')), H.h('span', { class: 'arrow' }, '→'),
          H.h('span', {}, H.t('pleasant')))),
      table);
  }

  function wordCloud(part, level) {
    var max = 1;
    part.counts.forEach(function (w) { if (w.count > max) max = w.count; });
    return H.h('section', { class: 'result-part part-words' },
      heading(level, H.t('Feeling words')),
      part.counts.length ? H.h('ul', { class: 'cloud' }, part.counts.map(function (w) {
        var size = 1 + Math.round((w.count / max) * 5);
        return H.h('li', { class: 'sz-' + size }, H.t(w.word) + ' ',
          H.h('span', { class: 'count' }, String(w.count),
            H.h('span', { class: 'visually-hidden' }, ' ' + H.tn('person', 'people', w.count))));
      })) : H.h('p', {}, H.t('No words picked.')));
  }

  function connectedness(part, level) {
    var counts = part.counts;
    var max = Math.max.apply(null, counts.concat([1]));
    var chart = H.svg('svg', { viewBox: '0 0 700 330', class: 'conn-chart', 'aria-hidden': 'true',
      focusable: 'false' });
    counts.forEach(function (c, i) {
      var height = Math.round(c / max * 170);
      var x = i * 100 + 20;
      chart.appendChild(H.svg('rect', { x: x, y: 220 - height, width: 60, height: Math.max(height, 2),
        class: 'bar' }));
      chart.appendChild(H.svg('text', { x: x + 30, y: 210 - height, 'text-anchor': 'middle',
        class: 'bar-count' }, String(c)));
      var icon = H.circles(i + 1, { x: x - 12, y: 236, width: 84, height: 35, 'aria-hidden': null });
      chart.appendChild(icon);
      chart.appendChild(H.svg('text', { x: x + 30, y: 318, 'text-anchor': 'middle', class: 'bar-label' },
        String(i + 1)));
    });
    var table = H.h('table', { class: 'visually-hidden' },
      H.h('caption', {}, H.t('How connected to the group people feel, from 1 (far apart) to 7 ' +
        '(almost one); {n} answered.', { n: part.n })),
      H.h('thead', {}, H.h('tr', {}, H.h('th', { scope: 'col' }, H.t('Circles')),
        H.h('th', { scope: 'col' }, H.t('People')))),
      H.h('tbody', {}, counts.map(function (c, i) {
        return H.h('tr', {}, H.h('th', { scope: 'row' }, (i + 1) + ' — ' + H.CIRCLES[i]),
          H.h('td', {}, String(c)));
      })));
    return H.h('section', { class: 'result-part part-connectedness' },
      heading(level, H.t('Connected to the group')),
      H.h('p', { class: 'axis', 'aria-hidden': 'true' }, H.t('1 far apart → 7 almost one')),
      chart, table);
  }

  function reactions(part, level) {
    return H.h('section', { class: 'result-part part-reactions' },
      heading(level, H.t('Reactions')),
      H.h('ul', { class: 'cloud reactions' }, part.counts.filter(function (r) { return r.count; })
        .map(function (r) {
          return H.h('li', { class: 'sz-3' }, (H.REACTIONS[r.reaction] || r.reaction) + ' ',
            H.h('span', { class: 'count' }, String(r.count)));
        })));
  }

  /* Build the results of the current activity, under the same rules on screen and console.
     opts: {audience: 'screen'|'console', level: heading level of each part}. */
  H.renderResults = function (results, activity, opts) {
    opts = opts || {};
    var level = opts.level || 3;
    var audience = opts.audience || 'screen';
    var box = H.h('div', { class: 'results' });
    if (!results || !activity) return box;
    var kind = activity.kind;
    // Appreciation and dyad rounds take no answers, only passes: a count there would be a pass count.
    if (kind === 'appreciation' || kind === 'dyads') return box;
    if (activity.state === 'open' || activity.state === 'closed') {
      box.appendChild(H.h('p', { class: 'responded' },
        H.tn('{n} person responded', '{n} people responded', results.responded)));
    }
    if (kind === 'check_in' || kind === 'check_out') {
      if (!results.released) {
        var k = results.k;
        var note;
        if (results.reason === 'held') {
          note = audience === 'console'
            ? H.t('Held: press “Reveal results” to show them on the screen.')
            : H.t('The results will be shown in a moment.');
        } else {
          note = audience === 'console'
            ? H.t('Results show once you close this activity (and reveal them, if held), ' +
              'when at least {k} people answered.', { k: k })
            : H.t('Results appear when this closes, if at least {k} people have answered.', { k: k });
        }
        if (activity.state !== 'preview' && activity.state !== 'pending') {
          box.appendChild(H.h('p', { class: 'results-note' }, note));
        }
        return box;
      }
      var parts = [['grid', moodGrid], ['words', wordCloud], ['connectedness', connectedness]];
      parts.forEach(function (entry) {
        var part = results[entry[0]];
        if (!part) return;
        if (part.withheld) {
          box.appendChild(H.h('section', { class: 'result-part is-withheld' },
            heading(level, { grid: H.t('Mood'), words: H.t('Feeling words'),
              connectedness: H.t('Connected to the group') }[entry[0]]),
            withheld(part, audience)));
        } else {
          box.appendChild(entry[1](part, level));
        }
      });
    } else if (kind === 'prompt' && results.reactions) {
      if (results.reactions.withheld) {
        if (audience === 'console') {
          box.appendChild(H.h('section', { class: 'result-part' }, heading(level, H.t('Reactions')),
            withheld(results.reactions, audience)));
        }
      } else {
        box.appendChild(reactions(results.reactions, level));
      }
    }
    return box;
  };

  window.Hearth = H;
})();
