/** An error a user can act on: the message names the bad value and what was expected. */
export class GessoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GessoError';
  }
}

/** Bad input from a user (a flag, a file, a config value). */
export class InputError extends GessoError {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/**
 * A bug inside gesso, not something the user did: the CLI prints it with its stack trace and asks for a
 * report. Code that validates user input must throw InputError before such a state is reached.
 */
export class InternalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InternalError';
  }
}

/** A tensor shape or dtype that does not fit an op, found while gesso builds a graph: a bug in that graph. */
export class ShapeError extends InternalError {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}
