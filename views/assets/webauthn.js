/*
 * Passkeys on Umbral's pages (progressive enhancement: without JavaScript, or without WebAuthn,
 * the buttons stay hidden and every other way of signing in works as before).
 *
 * A form with data-webauthn="get" or "create" and data-options-url: its [data-webauthn-start]
 * button fetches the options (the server keeps the challenge), runs the ceremony, puts the
 * credential's JSON in the form's "credential" field and submits the form as a normal POST.
 * data-conditional on a "get" form also offers passkeys in the username field's autofill.
 */
(() => {
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  const toBytes = (b64url) => {
    const b64 = b64url.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(b64 + '==='.slice((b64.length + 3) % 4));
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  };

  const toB64url = (buffer) => {
    const bytes = new Uint8Array(buffer);
    let binary = '';
    for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };

  function withIds(list) {
    return (list || []).map((c) => Object.assign({}, c, { id: toBytes(c.id) }));
  }

  function creationOptions(json) {
    return Object.assign({}, json, {
      challenge: toBytes(json.challenge),
      user: Object.assign({}, json.user, { id: toBytes(json.user.id) }),
      excludeCredentials: withIds(json.excludeCredentials),
    });
  }

  function requestOptions(json) {
    const options = Object.assign({}, json, { challenge: toBytes(json.challenge) });
    if (json.allowCredentials) options.allowCredentials = withIds(json.allowCredentials);
    return options;
  }

  function credentialJson(credential) {
    const r = credential.response;
    const response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      if (r.userHandle) response.userHandle = toB64url(r.userHandle);
    }
    return JSON.stringify({
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      response: response,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
    });
  }

  function fetchOptions(form) {
    return fetch(form.getAttribute('data-options-url'), {
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
    }).then((res) => {
      if (!res.ok) throw new Error(`options ${res.status}`);
      return res.json();
    });
  }

  function submitWith(form, credential) {
    form.querySelector('input[name="credential"]').value = credentialJson(credential);
    form.submit();
  }

  function showError(form, error) {
    if (error && error.name === 'AbortError') return;
    const message = form.querySelector('[data-webauthn-error]');
    if (message) message.hidden = false;
  }

  var pendingConditional = null;

  function ceremony(form, mediation) {
    const kind = form.getAttribute('data-webauthn');
    return fetchOptions(form).then((json) => {
      if (kind === 'create') return navigator.credentials.create({ publicKey: creationOptions(json) });
      const request = { publicKey: requestOptions(json) };
      if (mediation) {
        pendingConditional = new AbortController();
        request.mediation = mediation;
        request.signal = pendingConditional.signal;
      }
      return navigator.credentials.get(request);
    });
  }

  document.querySelectorAll('form[data-webauthn]').forEach((form) => {
    const start = form.querySelector('[data-webauthn-start]');
    const unsupported = form.querySelector('[data-webauthn-unsupported]');
    const wrapper = form.closest('[data-webauthn-section]');
    if (unsupported) unsupported.hidden = true;
    if (wrapper) wrapper.hidden = false;
    if (start) {
      start.hidden = false;
      start.addEventListener('click', () => {
        if (pendingConditional) pendingConditional.abort();
        start.disabled = true;
        ceremony(form)
          .then((credential) => {
            if (credential) submitWith(form, credential);
          })
          .catch((error) => {
            showError(form, error);
          })
          .then(() => {
            start.disabled = false;
          });
      });
    }
    if (form.hasAttribute('data-conditional') && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable()
        .then((available) => {
          if (!available) return;
          const field = document.querySelector(form.getAttribute('data-conditional'));
          // Added here, not in the markup: only a page that runs this script offers passkeys in autofill.
          if (field && !/\bwebauthn\b/.test(field.autocomplete))
            field.setAttribute('autocomplete', `${field.getAttribute('autocomplete')} webauthn`);
          return ceremony(form, 'conditional').then((credential) => {
            if (credential) submitWith(form, credential);
          });
        })
        .catch((error) => {
          showError(form, error);
        });
    }
  });
})();
