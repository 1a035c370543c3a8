/**
 * Binds a Y.Text to a <textarea> so several people can type in it at once: a local edit becomes the
 * smallest delete + insert (common prefix and suffix kept), and a remote edit updates the textarea with
 * the caret kept where it was in the text (through Yjs relative positions, which follow the characters).
 */
import * as Y from 'yjs';

export function bindTextarea(text: Y.Text, area: HTMLTextAreaElement): () => void {
  area.value = text.toString();
  // The caret as positions in the shared text, taken before any remote change arrives.
  let caret: [Y.RelativePosition, Y.RelativePosition] | null = null;
  const keepCaret = () => {
    caret = [Y.createRelativePositionFromTypeIndex(text, area.selectionStart), Y.createRelativePositionFromTypeIndex(text, area.selectionEnd)];
  };
  const onInput = () => {
    const before = text.toString();
    const after = area.value;
    let start = 0;
    while (start < before.length && start < after.length && before[start] === after[start]) start++;
    let end = 0;
    while (end < before.length - start && end < after.length - start && before[before.length - 1 - end] === after[after.length - 1 - end]) end++;
    text.doc?.transact(() => {
      if (before.length - start - end > 0) text.delete(start, before.length - start - end);
      const inserted = after.slice(start, after.length - end);
      if (inserted) text.insert(start, inserted);
    });
    keepCaret();
  };
  const onRemote = (_event: Y.YTextEvent, tr: Y.Transaction) => {
    if (tr.local) return;
    area.value = text.toString();
    if (document.activeElement !== area || !caret || !text.doc) return;
    const a = Y.createAbsolutePositionFromRelativePosition(caret[0], text.doc);
    const b = Y.createAbsolutePositionFromRelativePosition(caret[1], text.doc);
    if (a && b) area.setSelectionRange(a.index, b.index);
  };
  area.addEventListener('input', onInput);
  for (const e of ['select', 'keyup', 'mouseup', 'focus'] as const) area.addEventListener(e, keepCaret);
  text.observe(onRemote);
  return () => {
    area.removeEventListener('input', onInput);
    for (const e of ['select', 'keyup', 'mouseup', 'focus'] as const) area.removeEventListener(e, keepCaret);
    text.unobserve(onRemote);
  };
}
