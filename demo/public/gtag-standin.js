// A local stand-in for Google's gtag.js (the demo makes no outside requests). Like the real
// tag it reads the dataLayer queue, then handles each push — here it only lists what it got,
// so a newcomer can watch Consent Mode's default and updates arrive.
(() => {
  window.dataLayer = window.dataLayer || [];
  const dl = window.dataLayer;
  const shown = [];
  const render = () => {
    const ol = document.getElementById('gtag-log');
    if (!ol) return;
    ol.replaceChildren(
      ...shown.map((t) => {
        const li = document.createElement('li');
        li.textContent = t;
        return li;
      }),
    );
  };
  const describe = (a) => {
    if (a?.event) return `event ${a.event}${a.assent ? ` ${JSON.stringify(a.assent)}` : ''}`;
    if (a && typeof a.length === 'number') {
      const [cmd, type, arg] = a;
      if (cmd === 'consent')
        return `consent ${type}: ${Object.entries(arg)
          .filter(([k]) => k !== 'wait_for_update')
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}`;
      return `${cmd} ${type} ${JSON.stringify(arg)}`;
    }
    return JSON.stringify(a);
  };
  const handle = (a) => {
    shown.push(describe(a));
    if (document.readyState === 'loading')
      document.addEventListener('DOMContentLoaded', render, { once: true });
    else render();
  };
  for (const a of dl) handle(a);
  dl.push = (a) => {
    handle(a);
    return Array.prototype.push.call(dl, a);
  };
  window.gtagStandin = shown;
})();
