import type { Texts } from '../texts.js';

/** Dutch (formal "u"). */
export default {
  message: 'Onze website gebruikt cookies om uw ervaring te verbeteren.',
  learnMore: 'Meer informatie',
  accept: 'Accepteren',
  reject: 'Weigeren',
  preferences: 'Voorkeuren',
  label: 'Cookiemelding',
  title: 'Cookievoorkeuren',
  intro: 'Kies welke cookies wij mogen gebruiken.',
  save: 'Keuze opslaan',
  acceptAll: 'Alles accepteren',
  rejectAll: 'Alles weigeren',
  close: 'Sluiten',
  alwaysOn: 'Altijd aan',
  settings: 'Cookie-instellingen',
  doNotSell: 'Mijn persoonsgegevens niet verkopen of delen',
  gpc: 'Uw browser heeft een Global Privacy Control-signaal verzonden, dus marketing blijft uit.',
  gpcHonored: 'Opt-outverzoek gehonoreerd',
  consentId: 'Uw toestemmings-ID',
  embed: 'Deze inhoud wordt gehost door {0}.',
  loadEmbed: 'Inhoud laden',
  acceptCategory: 'Accepteren: {1}',
  cats: {
    necessary: [
      'Noodzakelijk',
      'Nodig om de site te laten werken, zoals het onthouden van deze keuze. Altijd aan.',
    ],
    functional: ['Functioneel', 'Onthouden instellingen zoals de taal en maken ingesloten inhoud mogelijk.'],
    analytics: [
      'Analytisch',
      'Helpen ons begrijpen hoe de site wordt gebruikt, zodat wij die kunnen verbeteren.',
    ],
    marketing: [
      'Marketing',
      'Gebruikt door advertentiepartners om relevante advertenties te tonen en te meten.',
    ],
    personalization: ['Personalisatie', 'Stemmen inhoud en aanbevelingen op u af.'],
  },
} satisfies Texts;
