import type { CommandEntry } from '../command.ts';

/** Every `gesso` subcommand, in the order `gesso --help` lists them. Add one entry per command. */
export const commands: CommandEntry[] = [
  {
    name: 'demo',
    summary: "train a small network for a few seconds with gesso's engine and show what it learned",
    load: async () => (await import('./demo.ts')).demoCommand,
  },
  {
    name: 'data',
    summary: 'build a captioned image dataset from the Open Clip Art Library or a folder of pictures',
    load: async () => (await import('./data.ts')).dataCommand,
  },
  {
    name: 'explore',
    summary: 'explore a GAN (samples, walks, grids, genes, breeding) or a diffusion model (seed and prompt interpolation, blends, variations)',
    load: async () => (await import('./explore.ts')).exploreCommand,
  },
  {
    name: 'generate',
    summary: 'make images from a prompt (txt2img, img2img, inpainting) with a diffusion model folder',
    load: async () => (await import('./generate.ts')).generateCommand,
  },
  { name: 'eval', summary: 'measure a text-to-image model for its model card (gesso eval default)', load: async () => (await import('./eval.ts')).evalCommand },
  {
    name: 'info',
    summary: 'show how an image was made: prompt, settings, recipe, ComfyUI graph, AI provenance',
    load: async () => (await import('./info.ts')).infoCommand,
  },
  {
    name: 'schedulers',
    summary: 'list the diffusion schedulers (samplers), or show the timesteps one picks',
    load: async () => (await import('./schedulers.ts')).schedulersCommand,
  },
  {
    name: 'serve',
    summary: 'start the studio server: library, jobs, REST/A1111/OpenAI APIs (127.0.0.1 by default)',
    load: async () => (await import('./serve.ts')).serveCommand,
  },
  {
    name: 'style',
    summary: 'restyle an image: the style of one or more images on the content of another (gatys, fast, adain)',
    load: async () => (await import('./style.ts')).styleCommand,
  },
  {
    name: 'train',
    summary: "train gesso's default model, a fast style network for your own style, or a GAN on your own pictures",
    load: async () => (await import('./train.ts')).trainCommand,
  },
  { name: 'upscale', summary: "enlarge an image 4× with gesso's upscaler network", load: async () => (await import('./upscale.ts')).upscaleCommand },
  { name: 'worker', summary: 'run render-farm jobs from Redis for `gesso serve --redis URL`', load: async () => (await import('./worker.ts')).workerCommand },
];
