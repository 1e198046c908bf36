import SwaggerParser from '@apidevtools/swagger-parser';
import express, { type Express } from 'express';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import type { OpenAPIV3_1 } from 'openapi-types';
import { OPENAPI_PATH } from '../../src/app/paths.js';

// ajv-formats is CommonJS: imported from ESM, its plugin function is the `default` of module.exports.
const addFormats = ajvFormats.default;

/** What the contract needs to know of a response, whatever client produced it. */
export interface ObservedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The raw body text. */
  readonly text: string;
}

export type Method = 'get' | 'post' | 'put' | 'delete';
const METHODS: readonly Method[] = ['get', 'post', 'put', 'delete'];

/**
 * `openapi.yaml` as a test oracle: validates the document once, then checks observed responses
 * against it (status documented, content type, body schema, documented headers) and records which
 * (method, path, status) triples the suite has exercised.
 */
export class OpenApiContract {
  readonly #exercised = new Set<string>();
  #violations: string[] = [];
  readonly #validators = new Map<object, ValidateFunction>();
  readonly #ajv = new Ajv2020({ strict: false, allErrors: true });

  private constructor(readonly document: OpenAPIV3_1.Document) {
    addFormats(this.#ajv);
  }

  /** Validates the document against the OpenAPI 3.1 schema, then dereferences it. */
  static async load(path = OPENAPI_PATH): Promise<OpenApiContract> {
    await SwaggerParser.validate(path);
    return new OpenApiContract((await SwaggerParser.dereference(path)) as OpenAPIV3_1.Document);
  }

  /** Every (method, path, status) the document promises, as `GET /readyz 503`. */
  documented(): string[] {
    return Object.entries(this.document.paths ?? {}).flatMap(([path, item]) =>
      METHODS.flatMap((method) =>
        Object.keys(item?.[method]?.responses ?? {}).map((status) => key(method, path, status)),
      ),
    );
  }

  exercised(): string[] {
    return [...this.#exercised];
  }

  /**
   * `app` behind a recorder that checks every response it sends against the document, so that any
   * test can hold its responses to the contract: assert `takeViolations()` is empty afterwards.
   * Paths the document does not describe (unknown routes) are not checked.
   */
  guard(app: Express): Express {
    const guarded = express();
    guarded.use((req, res, next) => {
      const chunks: Buffer[] = [];
      const write = res.write.bind(res) as (...args: unknown[]) => boolean;
      const end = res.end.bind(res) as (...args: unknown[]) => typeof res;
      const keep = (chunk: unknown) => {
        if (typeof chunk === 'string' || chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
      };
      res.write = ((...args: unknown[]) => (keep(args[0]), write(...args))) as typeof res.write;
      res.end = ((...args: unknown[]) => (keep(args[0]), end(...args))) as typeof res.end;
      const path = req.path;
      const method = req.method.toLowerCase();
      res.once('finish', () => {
        if (!isMethod(method) || this.#operation(method, path) === undefined) return;
        const observed = { status: res.statusCode, headers: res.getHeaders() as ObservedResponse['headers'], text: Buffer.concat(chunks).toString('utf8') };
        try {
          this.check(method, path, observed);
        } catch (error) {
          this.#violations.push((error as Error).message);
        }
      });
      next();
    });
    guarded.use(app);
    return guarded;
  }

  /** The contract breaches recorded by guarded apps since the last call. */
  takeViolations(): string[] {
    return this.#violations.splice(0);
  }

  /** Throws, listing every mismatch, unless `response` is what the document says `method path` answers. */
  check(method: Method, path: string, response: ObservedResponse): void {
    const documentedPath = this.#documentedPath(path);
    const operation = this.#operation(method, path);
    if (operation === undefined || documentedPath === undefined) throw new Error(`${method.toUpperCase()} ${path} is not in openapi.yaml`);
    const documented = operation.responses?.[String(response.status)] as OpenAPIV3_1.ResponseObject | undefined;
    if (documented === undefined) {
      throw new Error(`${method.toUpperCase()} ${path} answered ${response.status}, which openapi.yaml does not document`);
    }
    const problems = [...this.#headerProblems(documented, response), ...this.#bodyProblems(documented, response)];
    if (problems.length > 0) {
      throw new Error(`${method.toUpperCase()} ${path} ${response.status} breaks openapi.yaml:\n- ${problems.join('\n- ')}`);
    }
    this.#exercised.add(key(method, documentedPath, String(response.status)));
  }

  #operation(method: Method, path: string): OpenAPIV3_1.OperationObject | undefined {
    const documentedPath = this.#documentedPath(path);
    return documentedPath === undefined ? undefined : this.document.paths?.[documentedPath]?.[method];
  }

  /**
   * The document's path for a concrete one: itself when listed, else the templated path it
   * matches (`/admin/{unknown}` documents every unknown admin path, at any depth).
   */
  #documentedPath(path: string): string | undefined {
    const paths = Object.keys(this.document.paths ?? {});
    if (paths.includes(path)) return path;
    return paths.find((candidate) => candidate.includes('{') && templateMatcher(candidate).test(path));
  }

  #headerProblems(documented: OpenAPIV3_1.ResponseObject, response: ObservedResponse): string[] {
    return Object.entries(documented.headers ?? {}).flatMap(([name, header]) => {
      const { required, schema } = header as OpenAPIV3_1.HeaderObject;
      const value = response.headers[name.toLowerCase()];
      if (value === undefined) return required === true ? [`header ${name} is required but absent`] : [];
      return this.#schemaProblems(schema as object, value, `header ${name}`);
    });
  }

  #bodyProblems(documented: OpenAPIV3_1.ResponseObject, response: ObservedResponse): string[] {
    const contentType = String(response.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    const media = documented.content?.[contentType];
    if (media === undefined) {
      const expected = Object.keys(documented.content ?? {}).join(', ') || 'no body';
      return [`content type "${contentType}" is not documented (expected ${expected})`];
    }
    if (media.schema === undefined) return [];
    let body: unknown = response.text;
    if (contentType === 'application/json') {
      try {
        body = JSON.parse(response.text);
      } catch {
        return ['the body is not JSON'];
      }
    }
    return this.#schemaProblems(media.schema, body, 'body');
  }

  #schemaProblems(schema: object, value: unknown, what: string): string[] {
    let validate = this.#validators.get(schema);
    if (validate === undefined) {
      validate = this.#ajv.compile(schema);
      this.#validators.set(schema, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).map((error) => `${what}${error.instancePath} ${error.message ?? 'is invalid'} ${JSON.stringify(error.params)}`);
  }
}

/** A templated path as a regular expression; a parameter spans one segment or more. */
const templateMatcher = (template: string): RegExp =>
  new RegExp(`^${template.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('.+')}$`);

const isMethod = (method: string): method is Method => (METHODS as readonly string[]).includes(method);

const key = (method: string, path: string, status: string) => `${method.toUpperCase()} ${path} ${status}`;
