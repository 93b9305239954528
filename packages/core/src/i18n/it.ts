import type { Texts } from '../texts.js';

/** Italian (formal "Lei", lower-case as is usual on the web; buttons use the customary UI imperative). */
export default {
  message: 'Il nostro sito utilizza i cookie per migliorare la sua esperienza.',
  learnMore: 'Maggiori informazioni',
  accept: 'Accetta',
  reject: 'Rifiuta',
  preferences: 'Preferenze',
  label: 'Avviso sui cookie',
  title: 'Preferenze sui cookie',
  intro: 'Scelga quali cookie possiamo utilizzare.',
  save: 'Salva le scelte',
  acceptAll: 'Accetta tutti',
  rejectAll: 'Rifiuta tutti',
  close: 'Chiudi',
  alwaysOn: 'Sempre attivi',
  settings: 'Impostazioni cookie',
  doNotSell: 'Non vendere né condividere i miei dati personali',
  gpc: 'Il suo browser ha inviato un segnale Global Privacy Control, quindi il marketing resta disattivato.',
  gpcHonored: 'Richiesta di opt-out rispettata',
  consentId: 'Il suo ID di consenso',
  embed: 'Questo contenuto è ospitato da {0}.',
  loadEmbed: 'Carica contenuto',
  acceptCategory: 'Accetta: {1}',
  cats: {
    necessary: [
      'Necessari',
      'Indispensabili per il funzionamento del sito, ad esempio per ricordare questa scelta. Sempre attivi.',
    ],
    functional: ['Funzionali', 'Ricordano impostazioni come la lingua e abilitano i contenuti incorporati.'],
    analytics: ['Analitici', 'Ci aiutano a capire come viene usato il sito, per poterlo migliorare.'],
    marketing: [
      'Marketing',
      "Usati dai partner pubblicitari per mostrare annunci pertinenti e misurarne l'efficacia.",
    ],
    personalization: ['Personalizzazione', 'Adattano contenuti e suggerimenti ai suoi interessi.'],
  },
} satisfies Texts;
