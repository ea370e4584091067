/**
 * Typed access to the generated `schema.d.ts` (`npm run api-types`, from the OpenAPI document the
 * server serves): what a route answers and what it takes. The web app's API types are derived
 * from these, never copied by hand, so a change to a route's schema shows up here as a type error.
 *
 *   type Me = Answer<'/api/v1/me', 'get'>;
 *   type NewIncident = Body<'/api/v1/incidents', 'post'>;
 */
import type { paths } from './schema';

export type { paths };

/** The methods a path has in the document. */
export type Method<P extends keyof paths> = Extract<
  keyof paths[P],
  'get' | 'post' | 'put' | 'patch' | 'delete'
>;

type Operation<P extends keyof paths, M extends Method<P>> = paths[P][M];

type Json<R> = R extends { content: { 'application/json': infer J } } ? J : never;

/** The JSON a route answers on success (its 200, else its 201, else its 202). */
export type Answer<P extends keyof paths, M extends Method<P>> =
  Operation<P, M> extends { responses: infer R }
    ? R extends { 200: infer Ok }
      ? Json<Ok>
      : R extends { 201: infer Created }
        ? Json<Created>
        : R extends { 202: infer Accepted }
          ? Json<Accepted>
          : never
    : never;

/** The JSON body a route takes. */
export type Body<P extends keyof paths, M extends Method<P>> =
  Operation<P, M> extends { requestBody?: infer B } ? Json<NonNullable<B>> : never;

/** The query parameters a route takes. */
export type QueryOf<P extends keyof paths, M extends Method<P>> =
  Operation<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

/** One item of a listed answer (`{ items: T[] }`). */
export type Item<P extends keyof paths, M extends Method<P> = Method<P> & 'get'> =
  Answer<P, M> extends { items: (infer T)[] } ? T : never;
