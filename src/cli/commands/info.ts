import { parseFlags } from '../flags.ts';
import type { Command } from '../command.ts';
import { InputError } from '../../core/errors.ts';
import { escapeForTerminal, jsonForTerminal } from '../../core/terminal-text.ts';
import { a1111SettingPairs } from '../../image/a1111-parameters.ts';
import { readImageInfo, type ImageInfo } from '../../image/read-info.ts';
import { DIGITAL_SOURCE_TYPE_BASE } from '../../image/xmp.ts';

const SOURCE_MEANINGS: Record<string, string> = {
  trainedAlgorithmicMedia: 'made by a trained AI model',
  compositeWithTrainedAlgorithmicMedia: 'an image edited or combined with a trained AI model',
  algorithmicMedia: 'made by an algorithm without training data',
  digitalCapture: 'captured by a camera',
  compositeSynthetic: 'a composite including synthetic elements',
};

/** `label: value` with continuation lines of a multi-line value indented under the value. */
function field(label: string, value: string | number, width = 18): string {
  const pad = ' '.repeat(width + 2);
  return `  ${(label + ':').padEnd(width)}${String(value)
    .split('\n')
    .join('\n' + pad)}`;
}

function section(title: string, lines: string[]): string[] {
  return lines.length > 0 ? ['', title, ...lines] : [];
}

function describeSource(uri: string): string {
  const name = uri.startsWith(DIGITAL_SOURCE_TYPE_BASE) ? uri.slice(DIGITAL_SOURCE_TYPE_BASE.length) : uri;
  const meaning = SOURCE_MEANINGS[name];
  return meaning ? `${name} (${meaning})` : name;
}

function countNodes(graph: unknown): string {
  if (graph && typeof graph === 'object' && !Array.isArray(graph)) {
    const nodes = (graph as { nodes?: unknown }).nodes;
    return `${Array.isArray(nodes) ? nodes.length : Object.keys(graph).length} nodes`;
  }
  return 'present';
}

/** The readable report `gesso info` prints. */
export function formatImageInfo(info: ImageInfo): string {
  const lines = [field('File', info.path), field('Image', `${info.format.toUpperCase()}, ${info.width}x${info.height}`)];
  lines.push(field('Source', info.digitalSourceType ? describeSource(info.digitalSourceType) : 'not stated (no IPTC DigitalSourceType)'));
  if (info.xmp?.creatorTool) lines.push(field('Creator tool', info.xmp.creatorTool));

  const a = info.a1111;
  lines.push(
    ...section(
      'A1111 parameters',
      a
        ? [
            field('Prompt', a.prompt),
            ...(a.negativePrompt !== undefined ? [field('Negative prompt', a.negativePrompt)] : []),
            ...a1111SettingPairs(a).map(([k, v]) => field(k, v)),
          ]
        : [],
    ),
  );

  const c = info.comfyui;
  if (c) {
    const s = c.summary;
    const summary: [string, string | number | undefined][] = s
      ? [
          ['Sampler node', s.samplerNode],
          ['Positive prompt', s.positivePrompt],
          ['Negative prompt', s.negativePrompt],
          ['Seed', s.seed],
          ['Steps', s.steps],
          ['CFG', s.cfg],
          ['Sampler', s.sampler],
          ['Scheduler', s.scheduler],
          ['Denoise', s.denoise],
          ['Model', s.model],
          ['Size', s.width !== undefined && s.height !== undefined ? `${s.width}x${s.height}` : undefined],
        ]
      : [];
    lines.push(
      ...section('ComfyUI', [
        ...summary.filter((e): e is [string, string | number] => e[1] !== undefined).map(([k, v]) => field(k, v)),
        ...(c.prompt !== undefined ? [field('prompt graph', countNodes(c.prompt))] : []),
        ...(c.workflow !== undefined ? [field('workflow graph', countNodes(c.workflow))] : []),
      ]),
    );
  }

  if (info.recipe)
    lines.push(
      ...section(
        'gesso recipe',
        JSON.stringify(info.recipe, null, 2)
          .split('\n')
          .map((l) => '  ' + l),
      ),
    );
  lines.push(
    ...section(
      'Other text',
      Object.entries(info.otherText).map(([k, v]) => field(k, v)),
    ),
  );
  lines.push(
    ...section(
      'Warnings',
      info.warnings.map((w) => '  ' + w),
    ),
  );
  return lines.join('\n');
}

export const infoCommand: Command = {
  usage: [
    'Usage: gesso info <image> [--json]',
    '',
    'Prints the generation metadata an image carries: A1111 `parameters` (also written by Forge and gesso),',
    "gesso's full recipe, ComfyUI's prompt/workflow graphs with a summary of the sampler settings, and the",
    'IPTC DigitalSourceType from its XMP. PNG is read in full; other formats show size and XMP.',
    '',
    'Options:',
    '  --json   print everything as one JSON object',
  ].join('\n'),
  async run(args: string[]): Promise<number> {
    const parsed = parseFlags('info', { args, options: { json: { type: 'boolean', default: false } }, allowPositionals: true });
    const { values, positionals } = parsed;
    if (positionals.length !== 1) {
      throw new InputError(`gesso info takes one image path, got ${positionals.length === 0 ? 'none' : positionals.map((p) => JSON.stringify(p)).join(' ')}`);
    }
    const info = await readImageInfo(positionals[0]!);
    // Metadata is untrusted text: printed so that it cannot drive the terminal.
    console.log(values.json ? jsonForTerminal(info) : escapeForTerminal(formatImageInfo(info)));
    return 0;
  },
};
