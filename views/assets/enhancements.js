/*
 * Small conveniences on Umbral's pages, all progressive enhancement: without JavaScript every
 * page works as it is (one button, the password hidden, the issuer's time zone).
 *
 * - form[data-auto-submit]: submitted once on load (the email verification link's confirmation:
 *   a scanner fetching the link's GET verifies nobody, a person's browser goes straight on).
 * - input[data-reveal]: a "Mostrar" button after the password field toggles its visibility; the
 *   button's labels come from data-reveal-show and data-reveal-hide.
 * - input[name="time_zone"]: filled with the browser's IANA time zone (Intl), for times shown later.
 * - button[data-print] (hidden without script): prints the page (the recovery codes).
 */
(() => {
  for (const form of document.querySelectorAll('form[data-auto-submit]')) {
    if (form.dataset.submitted) continue;
    form.dataset.submitted = 'yes';
    form.submit();
  }

  for (const input of document.querySelectorAll('input[data-reveal]')) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'reveal';
    button.setAttribute('aria-controls', input.id);
    button.setAttribute('aria-pressed', 'false');
    button.textContent = input.dataset.revealShow;
    button.addEventListener('click', () => {
      const shown = input.type === 'text';
      input.type = shown ? 'password' : 'text';
      button.setAttribute('aria-pressed', String(!shown));
      button.textContent = shown ? input.dataset.revealShow : input.dataset.revealHide;
    });
    input.insertAdjacentElement('afterend', button);
  }

  for (const button of document.querySelectorAll('button[data-print]')) {
    button.hidden = false;
    button.addEventListener('click', () => window.print());
  }

  let zone = '';
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  } catch {
    zone = '';
  }
  if (zone) for (const field of document.querySelectorAll('input[name="time_zone"]')) field.value = zone;
})();
