import { COLOR_NAMES } from '../../data/color-names.ts';

const COLORS = new Set<string>(COLOR_NAMES);

/**
 * The short forms of a training caption that users type as prompts. Captions carry context ("orange cat
 * face, kitten kitty, animal mammal, noto style"); a first prompt is "a cat". Trained only on full
 * captions, the model drew the subject for the caption-shaped prompt and a blob for the short one. So
 * some samples train on the caption's first part ("orange cat face"), and half of those on its subject
 * alone, without the measured colours ("cat face").
 */
export function shortCaption(caption: string, bare: boolean): string {
  const title = (caption.split(',')[0] ?? '').trim();
  if (!bare) return title;
  const subject = title
    .replace(/ with .*$/, '')
    .split(' ')
    .filter((w) => !COLORS.has(w))
    .join(' ');
  return subject.length > 0 ? subject : title;
}
