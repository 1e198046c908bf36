import type { SafeText } from '../../src/domain/model/safe-text.js';
import type { IssuedToken, TokenBackend, TokenRequest } from '../../src/ports/token-backend.port.js';

type Answer = IssuedToken | Error | ((request: TokenRequest) => Promise<IssuedToken>);

/** Answers token requests from a script, one answer per call; the last answer repeats. */
export class ScriptedTokenBackend implements TokenBackend {
  readonly requests: TokenRequest[] = [];
  #answers: Answer[];

  constructor(...answers: Answer[]) {
    this.#answers = answers;
  }

  /** Replaces the script. */
  answer(...answers: Answer[]): this {
    this.#answers = answers;
    return this;
  }

  async requestToken(request: TokenRequest): Promise<IssuedToken> {
    this.requests.push(request);
    const answer = this.#answers.length > 1 ? this.#answers.shift() : this.#answers[0];
    if (answer === undefined) throw new Error('ScriptedTokenBackend: no answer scripted');
    if (answer instanceof Error) throw answer;
    return typeof answer === 'function' ? answer(request) : answer;
  }
}

export function issued(jwt: string, message: string | null = null): IssuedToken {
  return { jwt, expiresInSeconds: 86_400, message: message as SafeText | null };
}
