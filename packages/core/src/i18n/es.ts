import type { Texts } from '../texts.js';

/** Spanish (Spain, formal "usted"). */
export default {
  message: 'Nuestro sitio web utiliza cookies para mejorar su experiencia.',
  learnMore: 'Más información',
  accept: 'Aceptar',
  reject: 'Rechazar',
  preferences: 'Preferencias',
  label: 'Aviso de cookies',
  title: 'Preferencias de cookies',
  intro: 'Elija qué cookies podemos utilizar.',
  save: 'Guardar selección',
  acceptAll: 'Aceptar todas',
  rejectAll: 'Rechazar todas',
  close: 'Cerrar',
  alwaysOn: 'Siempre activas',
  settings: 'Configuración de cookies',
  doNotSell: 'No vender ni compartir mi información personal',
  gpc: 'Su navegador ha enviado una señal Global Privacy Control, por lo que el marketing sigue desactivado.',
  gpcHonored: 'Solicitud de exclusión respetada',
  consentId: 'Su ID de consentimiento',
  embed: 'Este contenido está alojado por {0}.',
  loadEmbed: 'Cargar contenido',
  acceptCategory: 'Aceptar: {1}',
  cats: {
    necessary: [
      'Necesarias',
      'Imprescindibles para que el sitio funcione, como recordar esta elección. Siempre activas.',
    ],
    functional: ['Funcionales', 'Recuerdan ajustes como el idioma y permiten mostrar contenido incrustado.'],
    analytics: ['Analíticas', 'Nos ayudan a entender cómo se usa el sitio para poder mejorarlo.'],
    marketing: [
      'Marketing',
      'Utilizadas por socios publicitarios para mostrar anuncios relevantes y medir su eficacia.',
    ],
    personalization: ['Personalización', 'Adaptan contenidos y recomendaciones a sus intereses.'],
  },
} satisfies Texts;
