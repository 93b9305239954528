// Stand-in for an ad tag. Held until the visitor grants "marketing" (or its "ads" service).
(() => {
  // biome-ignore lint/suspicious/noDocumentCookie: a stand-in tracker sets its cookie the way real ones do.
  document.cookie = `_demo_ads=1; Path=/; Max-Age=${60 * 60 * 24 * 90}; SameSite=Lax`;
  const slot = document.getElementById('ad-slot');
  if (slot)
    slot.textContent =
      'Ad: The Daily Ledger Weekend Edition — subscribe today (loaded after marketing consent).';
  window.demoAdsRuns = (window.demoAdsRuns || 0) + 1;
})();
