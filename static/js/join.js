/* Hearth join flow on a phone: pick a roster name (or a guest name), agree to the consent text, join. */
(function () {
  'use strict';
  var H = window.Hearth;
  H.initLargerText();

  var codeInput = H.$('#code');
  if (codeInput) {
    // join.html: the form itself works without JavaScript; this only tidies what is typed.
    codeInput.addEventListener('input', function () {
      var clean = codeInput.value.toUpperCase().replace(/[^A-Z0-9]/g, '');
      if (clean !== codeInput.value) codeInput.value = clean;
    });
  }

  var root = H.$('#join-pick');
  if (!root) return;

  var code = root.getAttribute('data-code');
  var consentVersion = parseInt(root.getAttribute('data-consent-version'), 10);
  var stepPick = H.$('#step-pick');
  var stepConsent = H.$('#step-consent');
  var pickError = H.$('#pick-error');
  var consentError = H.$('#consent-error');
  var pending = null;   // the choice waiting for consent
  var busy = false;

  /* This phone's two random keys, made once and kept: the device token and the private secret. */
  function keys() {
    var token = H.store.get('hearth.device_token', null);
    if (!token) { token = H.randomToken(32); H.store.set('hearth.device_token', token); }
    if (!H.store.get('hearth.secret', null)) H.store.set('hearth.secret', H.randomToken(32));
    return token;
  }

  var previous = H.store.get('hearth.session', null);
  if (previous && previous.code === code && previous.member && H.store.get('hearth.device_token', null)) {
    H.$('#continue-name').textContent = previous.member.name;
    H.$('#continue-link').textContent = H.t('Continue as {name}', { name: previous.member.name });
    H.$('#continue-box').hidden = false;
  }

  function showStep(consent) {
    stepPick.hidden = consent;
    stepConsent.hidden = !consent;
    H.$(consent ? '#consent-title' : '#pick-title').focus();
  }

  function showError(node, text) {
    node.textContent = text;
    node.hidden = !text;
  }

  function setBusy(on, button) {
    busy = on;
    H.$$('.name-button, #guest-form button, #consent-agree, #consent-back').forEach(function (b) {
      b.disabled = on;
    });
    if (button) {
      if (on) button.setAttribute('aria-busy', 'true'); else button.removeAttribute('aria-busy');
      button.classList.toggle('is-busy', on);
    }
  }

  function post(body) {
    return fetch(root.getAttribute('data-api'), {
      method: 'POST', credentials: 'omit',
      // The page's language, so the server's refusals come back in it.
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Accept-Language': H.lang },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, ok: response.ok, data: data };
      });
    }).catch(function () { return { status: 0, ok: false, data: {} }; });
  }

  function join(choice, withConsent, button) {
    if (busy) return;
    var errorNode = withConsent ? consentError : pickError;
    showError(pickError, '');
    showError(consentError, '');
    var body = { code: code, device_token: keys() };
    if (choice.member_id !== undefined) body.member_id = choice.member_id;
    if (choice.guest_name !== undefined) body.guest_name = choice.guest_name;
    if (withConsent || H.store.get('hearth.consent_version', null) === consentVersion) {
      body.consent_version = consentVersion;
    }
    setBusy(true, button);
    post(body).then(function (result) {
      setBusy(false, button);
      var error = (result.data && result.data.error) || {};
      if (result.ok) {
        if (body.consent_version) H.store.set('hearth.consent_version', consentVersion);
        H.store.set('hearth.session', { code: code, group_session_id: result.data.group_session_id,
          member: result.data.member });
        window.location.assign(root.getAttribute('data-next'));
      } else if (error.code === 'consent_required') {
        pending = choice;
        H.store.remove('hearth.consent_version');
        showStep(true);
      } else if (result.status === 409) {
        if (withConsent) showStep(false);
        showError(pickError, error.message ||
          H.t('This name is in use on another phone right now. Ask your facilitator.'));
      } else if (result.status === 403) {
        // This phone's token belongs to another group: a new token starts fresh for this one.
        H.store.remove('hearth.device_token');
        showError(errorNode, H.t('This phone was set up for another group. Tap your name again to ' +
          'join this one.'));
      } else if (result.status === 404) {
        showError(errorNode, error.message || H.t('No live session has that code any more.'));
      } else if (result.status === 429) {
        showError(errorNode, H.t('Too many tries from this network. Wait a minute and try again.'));
      } else if (result.status === 0) {
        showError(errorNode, H.t('The server could not be reached. Check the Wi-Fi and try again.'));
      } else {
        var fields = error.fields || {};
        var detail = Object.keys(fields).map(function (k) {
          return [].concat(fields[k]).join(' ');
        }).join(' ');
        showError(errorNode, (error.message || H.t('That did not work.')) + (detail ? ' ' + detail : ''));
      }
    });
  }

  H.$$('.name-button').forEach(function (button) {
    button.addEventListener('click', function () {
      join({ member_id: parseInt(button.getAttribute('data-member-id'), 10) }, false, button);
    });
  });

  var guestForm = H.$('#guest-form');
  if (guestForm) {
    guestForm.addEventListener('submit', function (event) {
      event.preventDefault();
      var input = H.$('#guest-name');
      var name = input.value.trim();
      if (!name) {
        showError(pickError, H.t('Type a first name or a nickname to join as a guest.'));
        input.focus();
        return;
      }
      // A guest is new to the group, so the consent text always comes first (and the server
      // keeps a guest's name from the first try: asking twice would find the name taken).
      if (H.store.get('hearth.consent_version', null) === consentVersion) {
        join({ guest_name: name }, true, guestForm.querySelector('button'));
      } else {
        pending = { guest_name: name };
        showStep(true);
      }
    });
  }

  H.$('#consent-agree').addEventListener('click', function (event) {
    if (pending) join(pending, true, event.currentTarget);
  });
  H.$('#consent-back').addEventListener('click', function () {
    pending = null;
    showStep(false);
  });
})();
