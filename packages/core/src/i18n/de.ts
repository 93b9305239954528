import type { Texts } from '../texts.js';

/** German (formal "Sie"). */
export default {
  message: 'Unsere Website verwendet Cookies, um Ihr Nutzungserlebnis zu verbessern.',
  learnMore: 'Mehr erfahren',
  accept: 'Akzeptieren',
  reject: 'Ablehnen',
  preferences: 'Einstellungen',
  label: 'Cookie-Hinweis',
  title: 'Cookie-Einstellungen',
  intro: 'Wählen Sie, welche Cookies wir verwenden dürfen.',
  save: 'Auswahl speichern',
  acceptAll: 'Alle akzeptieren',
  rejectAll: 'Alle ablehnen',
  close: 'Schließen',
  alwaysOn: 'Immer aktiv',
  settings: 'Cookie-Einstellungen',
  doNotSell: 'Meine personenbezogenen Daten nicht verkaufen oder weitergeben',
  gpc: 'Ihr Browser hat ein Global-Privacy-Control-Signal gesendet, daher bleibt Marketing deaktiviert.',
  gpcHonored: 'Widerspruch (Opt-out) berücksichtigt',
  consentId: 'Ihre Einwilligungs-ID',
  embed: 'Dieser Inhalt wird von {0} bereitgestellt.',
  loadEmbed: 'Inhalt laden',
  acceptCategory: 'Akzeptieren: {1}',
  cats: {
    necessary: [
      'Notwendig',
      'Für den Betrieb der Website erforderlich, z. B. um diese Auswahl zu speichern. Immer aktiv.',
    ],
    functional: [
      'Funktional',
      'Speichern Einstellungen wie die Sprache und ermöglichen eingebettete Inhalte.',
    ],
    analytics: [
      'Statistik',
      'Helfen uns zu verstehen, wie die Website genutzt wird, damit wir sie verbessern können.',
    ],
    marketing: [
      'Marketing',
      'Von Werbepartnern genutzt, um relevante Werbung anzuzeigen und deren Wirkung zu messen.',
    ],
    personalization: ['Personalisierung', 'Passen Inhalte und Empfehlungen an Sie an.'],
  },
} satisfies Texts;
