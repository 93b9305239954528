/**
 * What the banner benches configure alike: the seed's notice, and vanilla-cookieconsent set up to
 * show it (bench/banner.ts compares every library; bench/profile.ts profiles Assent against this
 * one). One definition, so both measure the same banner.
 */

/** The seed article's notice text. */
export const MESSAGE = 'Our website uses cookies to enhance your experience.';

/** vanilla-cookieconsent configured for the seed's notice: Accept !, Reject, Preferences, Learn More. */
export const VANILLA_CC_CONFIG = `CookieConsent.run({
  hideFromBots: false,
  cookie: { expiresAfterDays: 20 },
  categories: { necessary: { enabled: true, readOnly: true }, analytics: {} },
  language: {
    default: 'en',
    translations: {
      en: {
        consentModal: {
          description: ${JSON.stringify(`${MESSAGE} <a href="/privacy">Learn More</a>`)},
          acceptAllBtn: 'Accept !',
          acceptNecessaryBtn: 'Reject',
          showPreferencesBtn: 'Preferences',
        },
        preferencesModal: {
          title: 'Preferences', acceptAllBtn: 'Accept all', acceptNecessaryBtn: 'Reject all',
          savePreferencesBtn: 'Save', closeIconLabel: 'Close',
          sections: [
            { title: 'Necessary', linkedCategory: 'necessary' },
            { title: 'Analytics', linkedCategory: 'analytics' },
          ],
        },
      },
    },
  },
});`;
