// Local stand-ins for four vendors' tags (the demo makes no outside requests): Microsoft UET,
// Microsoft Clarity, Meta Pixel and TikTok Pixel. Each plays the vendor's snippet and library:
// it takes over the queue that assent.vendors.min.js prepared (loaded first in <head>), then
// lists every consent call it receives, so a newcomer can watch the denied defaults and the
// visitor's choice arrive.
(() => {
  const shown = [];
  const render = () => {
    const ol = document.getElementById('vendor-log');
    if (!ol) return;
    ol.replaceChildren(
      ...shown.map((t) => {
        const li = document.createElement('li');
        li.textContent = t;
        return li;
      }),
    );
  };
  const rec = (t) => {
    shown.push(t);
    if (document.readyState === 'loading')
      document.addEventListener('DOMContentLoaded', render, { once: true });
    else render();
  };
  const states = (o) =>
    Object.entries(o)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');

  // Microsoft UET: its queue holds the arguments one after the other.
  const uq = (window.uetq = window.uetq || []).splice(0);
  for (let i = 0; i < uq.length; i++)
    if (uq[i] === 'consent') {
      rec(`UET consent ${uq[i + 1]}: ${states(uq[i + 2])}`);
      i += 2;
    }
  window.uetq = { push: (...a) => a[0] === 'consent' && rec(`UET consent ${a[1]}: ${states(a[2])}`) };

  // Microsoft Clarity.
  const clarity = (...a) => a[0] === 'consentv2' && rec(`Clarity consentv2: ${states(a[1])}`);
  for (const a of window.clarity?.q ?? []) clarity(...a);
  window.clarity = clarity;

  // Meta Pixel: the snippet's fbq (the add-on puts `revoke` first in its queue), then the library.
  const fbq = function () {
    // biome-ignore lint/complexity/noArguments: Meta's queue holds arguments objects.
    fbq.callMethod ? fbq.callMethod.apply(fbq, arguments) : fbq.queue.push(arguments);
  };
  window.fbq = fbq;
  fbq.queue = [];
  fbq('init', 'demo');
  fbq.callMethod = (...a) => rec(`Meta ${a.join(' ')}`);
  for (const a of fbq.queue) fbq.callMethod(...a);

  // TikTok Pixel.
  const ttq = (window.ttq = window.ttq || []);
  for (const a of ttq.splice(0)) rec(`TikTok ${a[0]}`);
  for (const m of ['holdConsent', 'grantConsent', 'revokeConsent']) ttq[m] = () => rec(`TikTok ${m}`);
  ttq.push = (a) => rec(`TikTok ${a[0]}`);
})();
