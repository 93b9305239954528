/**
 * Every string the banner shows. English is built in; other languages ship as separate
 * presets (packages/banner/src/i18n) so they never weigh on the core bundle.
 */
export interface Texts {
  /** First-layer message. The seed's: "Our website uses cookies to enhance your experience." */
  message: string;
  learnMore: string;
  accept: string;
  reject: string;
  preferences: string;
  /** Accessible name of the first layer (a non-modal region). */
  label: string;
  /** Preferences dialog. */
  title: string;
  intro: string;
  save: string;
  acceptAll: string;
  rejectAll: string;
  close: string;
  alwaysOn: string;
  /** Floating button that reopens preferences: withdrawal as easy as giving. */
  settings: string;
  /** opt-out mode (US state laws). Full build only, like the next two. */
  doNotSell?: string;
  /** Shown when the browser's Global Privacy Control signal was honoured. */
  gpc?: string;
  /**
   * The short status beside the floating button while a GPC opt-out is honoured (California's
   * CCPA regulations §7025(c)(6): the site displays whether it processed the signal).
   */
  gpcHonored?: string;
  /** Before the consent ID in the preferences, linked to its page on the receipt server. */
  consentId?: string;
  /** Embed placeholder; `{0}` is the provider, `{1}` the category's title. */
  embed: string;
  loadEmbed: string;
  acceptCategory: string;
  /** Titles and descriptions of well-known categories, by category id. */
  cats: Record<string, readonly [title: string, description: string]>;
}

export const EN: Texts = {
  message: 'Our website uses cookies to enhance your experience.',
  learnMore: 'Learn More',
  accept: 'Accept',
  reject: 'Reject',
  preferences: 'Preferences',
  label: 'Cookie notice',
  title: 'Cookie preferences',
  intro: 'Choose which cookies we may use.',
  save: 'Save choices',
  acceptAll: 'Accept all',
  rejectAll: 'Reject all',
  close: 'Close',
  alwaysOn: 'Always on',
  settings: 'Cookie settings',
  // The texts of the full build's features (opt-out, GPC, receipts): not in the lite build,
  // whose config check then calls them unknown.
  ...(!globalThis.ASSENT_LITE && {
    doNotSell: 'Do not sell or share my personal information',
    gpc: 'Your browser sent a Global Privacy Control signal, so marketing stays off.',
    gpcHonored: 'Opt-out request honored',
    consentId: 'Your consent ID',
  }),
  embed: 'This content is hosted by {0}.',
  loadEmbed: 'Load content',
  acceptCategory: 'Accept {1}',
  cats: {
    necessary: ['Necessary', 'Needed for the site to work, such as remembering this choice.'],
    functional: ['Functional', 'Remember settings such as language and enable embedded content.'],
    analytics: ['Analytics', 'Help us understand how the site is used, so we can improve it.'],
    marketing: ['Marketing', 'Used by advertising partners to show relevant ads and measure them.'],
    personalization: ['Personalisation', 'Tailor content and recommendations to you.'],
  },
};
