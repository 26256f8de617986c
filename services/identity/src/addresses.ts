// Postal addresses of a user and their RPCs: validated fields (ISO 3166-1 country, postal code present,
// lengths bounded), at most one default for shipping and one for billing (unique indexes say so).
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { uuidv7 } from "uuidv7";
import {
  checkPostalAddressField,
  checkUpdateMask,
  checkUuid,
  ConflictError,
  isUuid,
  NotFoundError,
  postalAddressPaths,
  ResourceExhaustedError,
  sql,
  violations,
  type Database,
  type EntityManager,
  type PostalAddressPath,
} from "@bazaar/platform";
import type { ServiceImpl } from "@connectrpc/connect";
import { AddressSchema, type Address, type IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { loadReachableUser, tables } from "./users.ts";

export const MAX_ADDRESSES_PER_USER = 20;

const selectAddresses = (em: EntityManager) => tables(em).selectFrom("addresses").selectAll();
/** An address row as the entity types it. */
type AddressRow = Awaited<ReturnType<ReturnType<typeof selectAddresses>["executeTakeFirstOrThrow"]>>;
/** The columns a request may set: the postal address fields (named as their columns) and the default flags. */
type AddressColumns = Partial<Omit<AddressRow, "id" | "user_id" | "version" | "created_at" | "updated_at">>;

// An Address's fields are those of bazaar.type.v1.PostalAddress (the same rules) plus its default flags.
export const editableAddressPaths: readonly string[] = [...postalAddressPaths, "default_shipping", "default_billing"];

function toAddress(row: AddressRow): Address {
  return create(AddressSchema, {
    id: row.id,
    userId: row.user_id,
    recipientName: row.recipient_name,
    line1: row.line1,
    line2: row.line2,
    city: row.city,
    region: row.region,
    postalCode: row.postal_code,
    countryCode: row.country_code,
    phone: row.phone,
    defaultShipping: row.default_shipping,
    defaultBilling: row.default_billing,
    createTime: timestampFromDate(row.created_at),
    updateTime: timestampFromDate(row.updated_at),
    etag: String(row.version),
  });
}

/** Validates the `paths` of `address` (all editable fields when creating) and returns column → value. */
function columnsOf(address: Address | undefined, paths: readonly string[], prefix: string): AddressColumns {
  const v = violations();
  if (!address) {
    v.add(prefix, "is required");
    v.throwIfAny();
  }
  const a = address!;
  const columns: Record<string, string | boolean> = {};
  for (const path of paths) {
    if (path === "default_shipping") columns[path] = a.defaultShipping;
    else if (path === "default_billing") columns[path] = a.defaultBilling;
    else if ((postalAddressPaths as readonly string[]).includes(path)) {
      const value = checkPostalAddressField(v, prefix, path as PostalAddressPath, a);
      if (value !== undefined) columns[path] = value;
    }
  }
  v.throwIfAny();
  return columns as AddressColumns;
}

async function clearDefaults(em: EntityManager, userId: string, columns: AddressColumns, exceptId: string) {
  for (const flag of ["default_shipping", "default_billing"] as const) {
    if (columns[flag] === true) {
      await tables(em).updateTable("addresses").set({ [flag]: false }).where("user_id", "=", userId).where("id", "<>", exceptId).where(flag, "=", true).execute();
    }
  }
}

export interface AddressHandlerDeps {
  database: Database;
}

export function addressHandlers(
  deps: AddressHandlerDeps,
): Pick<ServiceImpl<typeof IdentityService>, "createAddress" | "listAddresses" | "updateAddress" | "deleteAddress"> {
  const { database } = deps;
  return {
    async createAddress(req) {
      const { userId, address } = req;
      const v = violations();
      checkUuid(v, "user_id", userId);
      v.throwIfAny();
      const columns = columnsOf(address, editableAddressPaths, "address");
      return database.transaction(async (em) => {
        await loadReachableUser(em, userId, true);
        const { count } = await tables(em)
          .selectFrom("addresses")
          .select(sql<number>`count(*)::int`.as("count"))
          .where("user_id", "=", userId)
          .executeTakeFirstOrThrow();
        if (count >= MAX_ADDRESSES_PER_USER) {
          throw new ResourceExhaustedError(`at most ${MAX_ADDRESSES_PER_USER} addresses per user`, { reason: "ADDRESS_LIMIT" });
        }
        if (count === 0) {
          columns.default_shipping = true;
          columns.default_billing = true;
        }
        const id = uuidv7();
        await clearDefaults(em, userId, columns, id);
        const row = await tables(em)
          .insertInto("addresses")
          // Creating validates every editable path, so every column is there.
          .values({ ...(columns as Required<AddressColumns>), id, user_id: userId })
          .returningAll()
          .executeTakeFirstOrThrow();
        return { address: toAddress(row) };
      });
    },

    async listAddresses(req) {
      const { userId } = req;
      const v = violations();
      checkUuid(v, "user_id", userId);
      v.throwIfAny();
      const em = database.em();
      await loadReachableUser(em, userId);
      // Not paged: a user has at most MAX_ADDRESSES_PER_USER.
      const rows = await selectAddresses(em).where("user_id", "=", userId).orderBy("created_at").orderBy("id").limit(MAX_ADDRESSES_PER_USER).execute();
      return { addresses: rows.map(toAddress) };
    },

    async updateAddress(req) {
      const { address } = req;
      const paths = req.updateMask?.paths ?? [];
      const v = violations();
      if (!address) v.add("address", "is required");
      else {
        checkUuid(v, "address.id", address.id);
        checkUuid(v, "address.user_id", address.userId);
      }
      const mask = checkUpdateMask(v, paths, editableAddressPaths);
      v.check(!address || address.etag === "" || /^[0-9]{1,10}$/.test(address.etag), "address.etag", "is not an etag of this API");
      v.throwIfAny();
      const columns = columnsOf(address, mask, "address");
      const { id, userId, etag } = address!;
      return database.transaction(async (em) => {
        await loadReachableUser(em, userId, true);
        const existing = await selectAddresses(em).where("id", "=", id).where("user_id", "=", userId).forUpdate().executeTakeFirst();
        if (!existing) throw new NotFoundError(`address ${id} not found`, { reason: "ADDRESS_NOT_FOUND" });
        if (etag !== "" && etag !== String(existing.version)) {
          throw new ConflictError("the address changed since it was read (etag mismatch); read it again", { reason: "ETAG_MISMATCH" });
        }
        await clearDefaults(em, userId, columns, id);
        const row = await tables(em)
          .updateTable("addresses")
          .set((eb) => ({ ...columns, version: eb("version", "+", 1), updated_at: sql<Date>`now()` }))
          .where("id", "=", id)
          .returningAll()
          .executeTakeFirstOrThrow();
        return { address: toAddress(row) };
      });
    },

    async deleteAddress(req) {
      const { userId, addressId } = req;
      const v = violations();
      checkUuid(v, "user_id", userId);
      checkUuid(v, "address_id", addressId);
      v.throwIfAny();
      await database.transaction(async (em) => {
        await loadReachableUser(em, userId, true);
        const deleted = await tables(em).deleteFrom("addresses").where("id", "=", addressId).where("user_id", "=", userId).returning("id").executeTakeFirst();
        if (!deleted && isUuid(addressId)) throw new NotFoundError(`address ${addressId} not found`, { reason: "ADDRESS_NOT_FOUND" });
      });
      return {};
    },
  };
}
