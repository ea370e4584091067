import { type ExpressionBuilder, type ExpressionWrapper, type SqlBool, sql } from 'kysely';

/**
 * The condition "this history row held at `asOf`" (or "holds now" when asOf is absent).
 * Every access question is answered through this one predicate, so as-of questions use the
 * same paths as the live decision.
 */
export function heldAt(
  // biome-ignore lint/suspicious/noExplicitAny: applies to any history table alias
  eb: ExpressionBuilder<any, any>,
  alias: string,
  asOf: string | undefined,
): ExpressionWrapper<never, never, SqlBool> {
  const to = eb.ref(`${alias}.valid_to`);
  if (asOf === undefined) return eb(to, 'is', null) as ExpressionWrapper<never, never, SqlBool>;
  return eb.and([
    eb(eb.ref(`${alias}.valid_from`), '<=', asOf),
    eb.or([eb(to, 'is', null), eb(to, '>', asOf)]),
  ]) as ExpressionWrapper<never, never, SqlBool>;
}

/** Raw-SQL form of {@link heldAt}, for hand-written hot queries. */
export function heldAtSql(alias: string, asOf: string | undefined) {
  const t = sql.raw(alias);
  if (asOf === undefined) return sql`${t}.valid_to is null`;
  return sql`(${t}.valid_from <= ${asOf} and (${t}.valid_to is null or ${t}.valid_to > ${asOf}))`;
}
