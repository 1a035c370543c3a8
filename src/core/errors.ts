/** An error a user can act on: the message names the bad value and what was expected. */
export class GessoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GessoError';
  }
}

/** A tensor shape or dtype that does not fit an op, found while the graph is built. */
export class ShapeError extends GessoError {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

/** Bad input from a user (a flag, a file, a config value). */
export class InputError extends GessoError {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}
