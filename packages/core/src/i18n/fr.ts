import type { Texts } from '../texts.js';

/** French (formal "vous"). `\u00a0` is the no-break space French typography puts before a colon. */
export default {
  message: 'Notre site utilise des cookies pour améliorer votre expérience.',
  learnMore: 'En savoir plus',
  accept: 'Accepter',
  reject: 'Refuser',
  preferences: 'Préférences',
  label: 'Information sur les cookies',
  title: 'Gestion des cookies',
  intro: 'Choisissez les cookies que nous pouvons utiliser.',
  save: 'Enregistrer mes choix',
  acceptAll: 'Tout accepter',
  rejectAll: 'Tout refuser',
  close: 'Fermer',
  alwaysOn: 'Toujours actifs',
  settings: 'Paramètres des cookies',
  doNotSell: 'Ne pas vendre ni partager mes informations personnelles',
  gpc: 'Votre navigateur a envoyé un signal Global Privacy Control, le marketing reste donc désactivé.',
  gpcHonored: 'Demande d’opposition respectée',
  consentId: 'Votre identifiant de consentement',
  embed: 'Ce contenu est hébergé par {0}.',
  loadEmbed: 'Charger le contenu',
  acceptCategory: 'Accepter\u00a0: {1}',
  cats: {
    necessary: [
      'Nécessaires',
      'Indispensables au fonctionnement du site, par exemple pour mémoriser ce choix. Toujours actifs.',
    ],
    functional: [
      'Fonctionnels',
      'Mémorisent des réglages comme la langue et permettent les contenus intégrés.',
    ],
    analytics: ["Mesure d'audience", "Nous aident à comprendre l'utilisation du site afin de l'améliorer."],
    marketing: [
      'Marketing',
      "Utilisés par nos partenaires publicitaires pour afficher des publicités pertinentes et en mesurer l'efficacité.",
    ],
    personalization: [
      'Personnalisation',
      "Adaptent les contenus et recommandations à vos centres d'intérêt.",
    ],
  },
} satisfies Texts;
