// Staff's side of promotions: create, read, update (etag), pause, archive, list, codes and the
// redemptions list. Every change and its event commit together (outbox).
import { randomInt } from "node:crypto";
import {
  AlreadyExistsError,
  ConflictError,
  FailedPreconditionError,
  isUniqueViolation,
  isUuid,
  keysetPage,
  NotFoundError,
  pgArray,
  postgresError,
  publish,
  query,
  typedQueries,
  type Database,
  type EntityManager,
  type Keyset,
  type Page,
  type PageCursor,
} from "@bazaar/platform";
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { uuidv7 } from "uuidv7";
import { PromotionArchivedSchema, PromotionCreatedSchema, PromotionUpdatedSchema } from "@bazaar/contracts/bazaar/promotion/v1/events_pb";
import type { Promotion } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import type { Money } from "@bazaar/contracts/bazaar/type/v1/money_pb";
import { promotionEntities } from "./entities.ts";
import { actionJson, conditionsJson, money, promotionMessage, stackingOf, type PromotionRow } from "./rule-codec.ts";
import type { PromotionStateName } from "./rules.ts";
import { normalizeCode } from "./validation.ts";

const tables = (em: EntityManager) => typedQueries(em, promotionEntities);

/** Newest first (ids are UUIDv7). */
export const PROMOTIONS_ORDER: Keyset = { columns: ["id"], direction: "desc", valid: ([id]) => isUuid(id!) };
export const REDEMPTIONS_ORDER: Keyset = { columns: ["id"], direction: "desc", valid: ([id]) => isUuid(id!) };
/** Export order: by code (unique), so a page never repeats or skips a code. */
export const CODES_ORDER: Keyset = { columns: ["code"], direction: "asc" };

const promotionNotFound = (id: string) => new NotFoundError(`promotion ${id} not found`, { reason: "PROMOTION_NOT_FOUND" });
const archived = (id: string) => new FailedPreconditionError(`promotion ${id} is archived`, { reason: "PROMOTION_ARCHIVED" });

export async function readRow(em: EntityManager, id: string): Promise<PromotionRow | undefined> {
  return (await tables(em).selectFrom("promotion").selectAll().where("id", "=", id).executeTakeFirst()) as PromotionRow | undefined;
}

/** The messages of `rows` with their shared code, generated-code count and money given away. */
export async function messagesOf(em: EntityManager, rows: readonly PromotionRow[]): Promise<Promotion[]> {
  if (rows.length === 0) return [];
  const ids = pgArray(rows.map((r) => r.id));
  const [codes, given] = await Promise.all([
    query<{ promotion_id: string; shared: string | null; generated: string }>(
      em,
      `select promotion_id, min(code) filter (where not single_use) as shared, count(*) filter (where single_use) as generated
         from promotion_code where promotion_id = any(?::uuid[]) group by promotion_id`,
      [ids],
    ),
    query<{ promotion_id: string; currency: string; amount: string }>(
      em,
      `select promotion_id, currency, sum(amount) as amount from redemption
        where promotion_id = any(?::uuid[]) and released_at is null group by promotion_id, currency order by currency`,
      [ids],
    ),
  ]);
  const codeOf = new Map(codes.map((c) => [c.promotion_id, c]));
  const givenOf = new Map<string, Money[]>();
  for (const g of given) givenOf.set(g.promotion_id, [...(givenOf.get(g.promotion_id) ?? []), money(BigInt(g.amount), g.currency)]);
  return rows.map((row) =>
    promotionMessage(row, { code: codeOf.get(row.id)?.shared ?? "", generated: BigInt(codeOf.get(row.id)?.generated ?? 0), givenAway: givenOf.get(row.id) ?? [] }),
  );
}

async function messageOf(em: EntityManager, id: string): Promise<Promotion> {
  const row = await readRow(em, id);
  if (!row) throw promotionNotFound(id);
  return (await messagesOf(em, [row]))[0]!;
}

/** The columns a promotion message sets (all, or those `paths` names). */
function columnsOf(p: Promotion, paths?: readonly string[]): Record<string, unknown> {
  const has = (path: string) => !paths || paths.includes(path);
  const columns: Record<string, unknown> = {};
  if (has("name")) columns.name = p.name.trim();
  if (has("description")) columns.description = p.description;
  if (has("conditions")) columns.conditions = JSON.stringify(conditionsJson(p.conditions!));
  if (has("action")) columns.action = JSON.stringify(actionJson(p.action!));
  if (has("stacking")) columns.stacking = stackingOf(p.stacking);
  if (has("priority")) columns.priority = p.priority;
  if (has("start_time")) columns.starts_at = p.startTime ? timestampDate(p.startTime) : null;
  if (has("end_time")) columns.ends_at = p.endTime ? timestampDate(p.endTime) : null;
  if (has("usage_limit")) columns.usage_limit = p.usageLimit > 0n ? p.usageLimit.toString() : null;
  if (has("per_customer_limit")) columns.per_customer_limit = p.perCustomerLimit > 0 ? p.perCustomerLimit : null;
  if (has("budget")) {
    columns.budget = p.budget ? p.budget.amountMinor.toString() : null;
    columns.budget_currency = p.budget ? p.budget.currencyCode : null;
  }
  return columns;
}

/** A change the CHECKs refuse: a limit or budget below what was redeemed already, or a window the other end makes empty. */
function refusedByChecks(error: unknown, id: string): never {
  const pg = postgresError(error);
  if (pg?.code === "23514") {
    const what: Record<string, string> = {
      promotion_within_usage_limit: "the usage limit is below the redemptions already made",
      promotion_within_budget: "the budget is below the money already given away",
      promotion_window: "end_time must be after start_time",
    };
    throw new FailedPreconditionError(`promotion ${id}: ${what[pg.constraint ?? ""] ?? "the change breaks a rule of the promotion"}`, { reason: "PROMOTION_LIMIT_BELOW_USE" });
  }
  throw error;
}

export function createPromotionStore(database: Database) {
  return {
    async create(p: Promotion): Promise<Promotion> {
      const id = uuidv7();
      const columns = columnsOf(p);
      const code = p.code === "" ? undefined : normalizeCode(p.code);
      return database
        .transaction(async (em) => {
          const names = Object.keys(columns);
          await em.execute(
            `insert into promotion (id, state, automatic, ${names.join(", ")}) values (?, 'active', ?, ${names.map((n) => (n === "conditions" || n === "action" ? "?::jsonb" : "?")).join(", ")})`,
            [id, p.automatic, ...Object.values(columns)],
            "run",
          );
          if (code) await em.execute("insert into promotion_code (code, promotion_id, single_use) values (?, ?, false)", [code, id], "run");
          await publish(em, PromotionCreatedSchema, create(PromotionCreatedSchema, { promotionId: id, name: p.name.trim(), code: code ?? "" }));
          return messageOf(em, id);
        })
        .catch((error: unknown) => {
          if (isUniqueViolation(error, "promotion_code_pkey")) throw new AlreadyExistsError(`the code ${code} belongs to another promotion`, { reason: "CODE_TAKEN" });
          throw error;
        });
    },

    get: (id: string) => messageOf(database.em(), id),

    async update(p: Promotion, paths: readonly string[], etag: string): Promise<Promotion> {
      const columns = columnsOf(p, paths);
      return database.transaction(async (em) => {
        const current = await readRow(em, p.id);
        if (!current) throw promotionNotFound(p.id);
        if (current.state === "archived") throw archived(p.id);
        const names = Object.keys(columns);
        const sets = names.map((n) => `${n} = ${n === "conditions" || n === "action" ? "?::jsonb" : "?"}`);
        // The etag compare-and-set: a concurrent update that won makes this one match nothing.
        const [updated] = await query(
          em,
          `update promotion set ${sets.join(", ")}, version = version + 1, updated_at = clock_timestamp()
            where id = ? and version::text = ? and state <> 'archived' returning id`,
          [...Object.values(columns), p.id, etag],
        ).catch((error: unknown) => refusedByChecks(error, p.id));
        if (!updated) throw new ConflictError(`promotion ${p.id} changed since it was read (etag ${etag}); read it again`, { reason: "STALE_ETAG" });
        await publish(em, PromotionUpdatedSchema, create(PromotionUpdatedSchema, { promotionId: p.id, changed: [...paths] }));
        return messageOf(em, p.id);
      });
    },

    async pause(id: string, paused: boolean): Promise<Promotion> {
      return database.transaction(async (em) => {
        const current = await readRow(em, id);
        if (!current) throw promotionNotFound(id);
        if (current.state === "archived") throw archived(id);
        const to: PromotionStateName = paused ? "paused" : "active";
        if (current.state !== to) {
          await em.execute("update promotion set state = ?, version = version + 1, updated_at = clock_timestamp() where id = ?", [to, id], "run");
          await publish(em, PromotionUpdatedSchema, create(PromotionUpdatedSchema, { promotionId: id, changed: [paused ? "paused" : "resumed"] }));
        }
        return messageOf(em, id);
      });
    },

    async archive(id: string): Promise<Promotion> {
      return database.transaction(async (em) => {
        const [changed] = await query(
          em,
          "update promotion set state = 'archived', version = version + 1, updated_at = clock_timestamp() where id = ? and state <> 'archived' returning id",
          [id],
        );
        if (changed) await publish(em, PromotionArchivedSchema, create(PromotionArchivedSchema, { promotionId: id }));
        return messageOf(em, id);
      });
    },

    async list(page: PageCursor, state: PromotionStateName | undefined): Promise<{ promotions: Promotion[]; nextPageToken: string }> {
      const em = database.em();
      const select = tables(em)
        .selectFrom("promotion")
        .selectAll()
        .$if(state !== undefined, (q) => q.where("state", "=", state!));
      const { rows, nextPageToken } = await keysetPage(select, page);
      return { promotions: await messagesOf(em, rows as PromotionRow[]), nextPageToken };
    },

    /**
     * `count` new single-use codes "<PREFIX>-<10 random of 32 unambiguous characters>" (50 bits each),
     * inserted in one statement; a collision with any existing code retries the whole batch (rare).
     */
    async generateCodes(id: string, prefix: string, count: number): Promise<string[]> {
      const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
      const fresh = () => {
        const codes = new Set<string>();
        while (codes.size < count) codes.add(`${normalizeCode(prefix)}-${Array.from({ length: 10 }, () => alphabet[randomInt(alphabet.length)]).join("")}`);
        return [...codes];
      };
      for (let attempt = 0; ; attempt++) {
        const codes = fresh();
        try {
          await database.transaction(async (em) => {
            const current = await readRow(em, id);
            if (!current) throw promotionNotFound(id);
            if (current.state === "archived") throw archived(id);
            if (current.automatic) throw new FailedPreconditionError(`promotion ${id} is automatic: it takes no codes`, { reason: "PROMOTION_AUTOMATIC" });
            await em.execute("insert into promotion_code (code, promotion_id, single_use) select unnest(?::text[]), ?, true", [pgArray(codes), id], "run");
          });
          return codes;
        } catch (error) {
          if (!isUniqueViolation(error, "promotion_code_pkey") || attempt >= 3) throw error;
        }
      }
    },

    async listCodes(id: string, page: PageCursor): Promise<Page<{ code: string; order_id: string | null; created_at: Date }>> {
      const em = database.em();
      if (!(await readRow(em, id))) throw promotionNotFound(id);
      const select = tables(em)
        .selectFrom("promotion_code")
        .select(["code", "order_id", "created_at"])
        .where("promotion_id", "=", id)
        .where("single_use", "=", true);
      return keysetPage(select, page) as Promise<Page<{ code: string; order_id: string | null; created_at: Date }>>;
    },

    async listRedemptions(id: string, page: PageCursor) {
      const em = database.em();
      if (!(await readRow(em, id))) throw promotionNotFound(id);
      const select = tables(em).selectFrom("redemption").selectAll().where("promotion_id", "=", id);
      return keysetPage(select, page);
    },
  };
}

export type PromotionStore = ReturnType<typeof createPromotionStore>;
