import type { Texts } from '../texts.js';

/** Polish (formal: impersonal phrasing or "Państwa"; buttons use the customary UI imperative). */
export default {
  message: 'Nasza strona używa plików cookie, aby poprawić komfort korzystania z niej.',
  learnMore: 'Więcej informacji',
  accept: 'Akceptuj',
  reject: 'Odrzuć',
  preferences: 'Preferencje',
  label: 'Informacja o plikach cookie',
  title: 'Preferencje plików cookie',
  intro: 'Prosimy wybrać, z których plików cookie możemy korzystać.',
  save: 'Zapisz wybór',
  acceptAll: 'Akceptuj wszystkie',
  rejectAll: 'Odrzuć wszystkie',
  close: 'Zamknij',
  alwaysOn: 'Zawsze włączone',
  settings: 'Ustawienia plików cookie',
  doNotSell: 'Nie sprzedawać ani nie udostępniać moich danych osobowych',
  gpc: 'Przeglądarka wysłała sygnał Global Privacy Control, więc marketing pozostaje wyłączony.',
  gpcHonored: 'Żądanie rezygnacji uwzględnione',
  consentId: 'Identyfikator Państwa zgody',
  embed: 'Ta treść pochodzi z serwisu {0}.',
  loadEmbed: 'Wczytaj treść',
  acceptCategory: 'Akceptuj: {1}',
  cats: {
    necessary: [
      'Niezbędne',
      'Potrzebne do działania strony, np. do zapamiętania tego wyboru. Zawsze włączone.',
    ],
    functional: [
      'Funkcjonalne',
      'Zapamiętują ustawienia, takie jak język, i umożliwiają wyświetlanie osadzonych treści.',
    ],
    analytics: ['Analityczne', 'Pomagają nam zrozumieć, jak strona jest używana, abyśmy mogli ją ulepszać.'],
    marketing: [
      'Marketingowe',
      'Używane przez partnerów reklamowych do wyświetlania trafnych reklam i mierzenia ich skuteczności.',
    ],
    personalization: ['Personalizacja', 'Dopasowują treści i rekomendacje do Państwa zainteresowań.'],
  },
} satisfies Texts;
