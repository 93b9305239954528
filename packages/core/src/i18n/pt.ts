import type { Texts } from '../texts.js';

/**
 * Portuguese: European Portuguese (pt-PT, post-1990 spelling), formal register through "o seu" /
 * "aos seus" rather than "tu". Brazilian readers will understand it, but pt-BR would say "salvar",
 * "compartilhar", "configurações" and "hospedado".
 */
export default {
  message: 'O nosso site utiliza cookies para melhorar a sua experiência.',
  learnMore: 'Saber mais',
  accept: 'Aceitar',
  reject: 'Rejeitar',
  preferences: 'Preferências',
  label: 'Aviso de cookies',
  title: 'Preferências de cookies',
  intro: 'Escolha os cookies que podemos utilizar.',
  save: 'Guardar escolhas',
  acceptAll: 'Aceitar todos',
  rejectAll: 'Rejeitar todos',
  close: 'Fechar',
  alwaysOn: 'Sempre ativos',
  settings: 'Definições de cookies',
  doNotSell: 'Não vender nem partilhar as minhas informações pessoais',
  gpc: 'O seu navegador enviou um sinal Global Privacy Control, pelo que o marketing permanece desativado.',
  gpcHonored: 'Pedido de exclusão respeitado',
  consentId: 'O seu ID de consentimento',
  embed: 'Este conteúdo é alojado por {0}.',
  loadEmbed: 'Carregar conteúdo',
  acceptCategory: 'Aceitar: {1}',
  cats: {
    necessary: [
      'Necessários',
      'Indispensáveis ao funcionamento do site, por exemplo para memorizar esta escolha. Sempre ativos.',
    ],
    functional: ['Funcionais', 'Memorizam definições como o idioma e permitem conteúdos incorporados.'],
    analytics: ['Análise', 'Ajudam-nos a perceber como o site é utilizado, para o podermos melhorar.'],
    marketing: [
      'Marketing',
      'Utilizados por parceiros publicitários para mostrar anúncios relevantes e medir a sua eficácia.',
    ],
    personalization: ['Personalização', 'Adaptam conteúdos e recomendações aos seus interesses.'],
  },
} satisfies Texts;
