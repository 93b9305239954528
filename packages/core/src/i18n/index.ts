/**
 * The language presets, by language tag. The banner ships each as its own small file
 * (`dist/i18n/de.js`, which registers on `window.assentTexts`); the receipt server resolves a
 * published policy's texts with the same table (`@assent/core/i18n`), so a policy that says
 * `"texts": { "de": {} }` means exactly the words the German file shows.
 */
import type { Texts } from '../texts.js';
import de from './de.js';
import es from './es.js';
import fr from './fr.js';
import it from './it.js';
import nl from './nl.js';
import pl from './pl.js';
import pt from './pt.js';

export const PRESETS: Readonly<Record<string, Texts>> = { de, es, fr, it, nl, pl, pt };
