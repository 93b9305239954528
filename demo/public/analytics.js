// Stand-in for an analytics tag (Google Analytics and the like). Held by the banner until
// the visitor grants "analytics": it sets a cookie and sends a page-view beacon.
(() => {
  const id = Math.random().toString(36).slice(2);
  // biome-ignore lint/suspicious/noDocumentCookie: a stand-in tracker sets its cookie the way real ones do.
  document.cookie = `_demo_stats=${id}; Path=/; Max-Age=${60 * 60 * 24 * 395}; SameSite=Lax`;
  navigator.sendBeacon('/demo/collect');
  window.demoAnalyticsRuns = (window.demoAnalyticsRuns || 0) + 1;
})();
