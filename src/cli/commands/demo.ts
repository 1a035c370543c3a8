import type { Command } from '../command.ts';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'build a small network, train it for a few seconds and show what it learned',
  usage: 'Usage: gesso demo\n\nTrains a small MLP on XOR with gesso\'s engine and prints its predictions.',
  async run(): Promise<number> {
    console.log('demo: the engine is not built yet');
    return 0;
  },
};
